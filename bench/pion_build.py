"""Building benchmark 1's pion baseline: ``bench/pion`` into ``<cache_dir>/bench/pion-receiver``.

The receiver is the project's own Go program (``bench/pion/main.go``); its dependencies,
``github.com/pion/webrtc/v4`` and what it needs, come from the Go module proxy at the versions
``bench/pion/go.mod`` and ``go.sum`` pin. Everything the build writes (GOPATH with the module
cache, GOCACHE) lives under ``<cache_dir>/bench/``, outside the clone and the user's own Go
folders; the binary is rebuilt only when a source file is newer than it. Bench-only: nothing in
the package uses it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from bench.common import Progress
from simulator.settings import Settings

SOURCE = Path(__file__).resolve().parent / "pion"
PION_VERSION = "v4.2.26"
GO_FALLBACK = Path("/usr/local/go/bin/go")
BUILD_TIMEOUT_S = 900.0


class PionBuildError(RuntimeError):
    """The baseline could not be built (no Go, or the module proxy out of reach)."""


def binary_path(settings: Settings) -> Path:
    return settings.cache_dir / "bench" / "pion-receiver"


def build_env(settings: Settings) -> dict[str, str]:
    root = settings.cache_dir / "bench"
    env = dict(os.environ)
    flags = env.get("GOFLAGS", "").split()
    if "-modcacherw" not in flags:
        flags.append("-modcacherw")  # the module cache stays deletable
    env.update(
        GOPATH=str(root / "gopath"),
        GOMODCACHE=str(root / "gopath" / "pkg" / "mod"),
        GOCACHE=str(root / "gocache"),
        GOTOOLCHAIN="local",  # never download another toolchain
        GOFLAGS=" ".join(flags),
    )
    return env


def _go() -> str:
    found = shutil.which("go")
    if found is not None:
        return found
    if GO_FALLBACK.is_file():
        return str(GO_FALLBACK)
    raise PionBuildError("Go is not installed: benchmark 1's pion baseline needs it (1.24+)")


def is_current(settings: Settings) -> bool:
    binary = binary_path(settings)
    if not binary.is_file():
        return False
    built = binary.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in SOURCE.iterdir() if p.is_file())


def ensure_built(settings: Settings, progress: Progress | None = None) -> Path:
    """The pion receiver, built first when missing or older than its source."""
    binary = binary_path(settings)
    if is_current(settings):
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    if progress is not None:
        progress(f"building the pion baseline (pion/webrtc {PION_VERSION}) into {binary}")
    began = time.monotonic()
    try:
        subprocess.run(
            [_go(), "build", "-trimpath", "-o", str(binary), "."],
            cwd=SOURCE,
            env=build_env(settings),
            check=True,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
    except subprocess.CalledProcessError as exc:
        raise PionBuildError(
            f"go build of bench/pion failed (the Go module proxy must be reachable): "
            f"{exc.stderr[-2000:]}"
        ) from None
    if progress is not None:
        progress(f"built in {time.monotonic() - began:.0f} s")
    return binary


def main() -> None:
    """``python -m bench.pion_build``: what ``make bench`` runs first."""
    try:
        print(ensure_built(Settings(), print))
    except PionBuildError as exc:
        print(f"pion baseline: {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
