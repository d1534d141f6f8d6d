"""rtcsim installed as a user installs it (a wheel, not the checkout's editable install), run from a
folder of the user's own: the scenario library and Kibana objects come from the package data in
site-packages, results land under the working folder, and a library scenario runs on the stack.

The wheel is built from a copy of the checkout (nothing written into it; pip's isolated build
fetches setuptools as for any user) and installed with ``--no-deps`` into a fresh venv that
reaches the dependencies through a ``.pth`` line: no import from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.settings import Settings

pytestmark = pytest.mark.integration
CHECKOUT = Path(__file__).resolve().parents[2]
TOP_LEVEL_ONLY = {".venv", ".git", "results", ".run", "build", "rtcsim.egg-info", "rtcsim.toml"}


def keep_out(folder: str, names: list[str]) -> set[str]:
    """The checkout's own runs, state and environments (``rtcsim/results/`` is code: kept)."""
    return TOP_LEVEL_ONLY & set(names) if Path(folder) == CHECKOUT else set()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh venv holding rtcsim's wheel."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    shutil.copytree(CHECKOUT, source, symlinks=True, ignore=keep_out)
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
    )
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The test environment's packages after the venv's own (a plain path line: the editable
    # install's own .pth hook there is not run, so the checkout is not importable).
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    (wheel,) = wheels.glob("rtcsim-*.whl")
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True)
    return venv / "bin"


def rtcsim(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(bin_dir / "rtcsim"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_the_installed_package_reads_its_library_from_site_packages(
    installed: Path, tmp_path: Path
) -> None:
    where = subprocess.run(
        [installed / "python", "-c", "import rtcsim.library as l; print(l.LIBRARY, l.KIBANA_DIR)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all("site-packages" in path and str(CHECKOUT) not in path for path in where), where
    listed = rtcsim(installed, tmp_path, "scenario", "list")
    assert listed.returncode == 0, listed.stderr
    assert "smoke" in listed.stdout.split()
    checked = rtcsim(installed, tmp_path, "validate", "smoke", "load-distributed")
    assert checked.returncode == 0, checked.stderr


def test_a_library_scenario_runs_from_a_folder_of_the_users_own(
    installed: Path, tmp_path: Path
) -> None:
    if Path("rtcsim.toml").exists():  # this clone's stack (the slot's names and ports)
        shutil.copy("rtcsim.toml", tmp_path / "rtcsim.toml")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # The running stack's state (pid files, generated config) stays where it was started.
    env["RTCSIM_STATE_DIR"] = str(Settings().state_dir.resolve())
    args = ["run", "smoke", "--json", "-q", "--junit", "junit.xml"]
    done = subprocess.run(
        [installed / "rtcsim", *args], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = json.loads(done.stdout)["runs"]
    assert run["passed"] is True
    assert Path(run["results_dir"]) == tmp_path / "results" / run["run_id"]
    assert (tmp_path / "results" / run["run_id"] / "summary.json").is_file()
    assert (tmp_path / "junit.xml").is_file()
