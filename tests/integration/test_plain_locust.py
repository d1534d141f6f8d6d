"""``locust -f LOCUSTFILE`` typed as locust users type it, without ``rtcsim load`` and without
``LOCUST_SKIP_MONKEY_PATCH``: the run plays on the real stack, and when locust quits it is
concluded (documents read back, checked, summary.json written) with locust's exit code the
verdict's (``simulator.load.plain_locust``). About 45 s."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from rtcsim.library import LOCUSTFILES

pytestmark = pytest.mark.integration


def test_a_plain_headless_locust_run_is_recorded_and_concluded(tmp_path: Path) -> None:
    locust = Path(sys.executable).parent / "locust"
    env = {k: v for k, v in os.environ.items() if k != "LOCUST_SKIP_MONKEY_PATCH"}
    env["RTCSIM_RESULTS_DIR"] = str(tmp_path)
    args = ["--headless", "-u", "3", "-r", "3", "--run-time", "20s", "--loglevel", "WARNING"]
    done = subprocess.run(
        [str(locust), "-f", str(LOCUSTFILES / "load-small.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    (summary,) = tmp_path.glob("*/summary.json")
    outcome = orjson.loads(summary.read_bytes())
    assert outcome["passed"] is True
    assert outcome["documents"] > 0
    assert (summary.parent / "junit.xml").is_file()
    assert "PASSED" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
