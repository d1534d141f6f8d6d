"""Getting a livekit-server binary onto this machine: built once from the Go module proxy.

LiveKit publishes no Debian package and prebuilt binaries are out of reach here, but its server
is a Go module, so ``go install github.com/livekit/livekit-server/cmd/server@<version>`` builds
it from source the Go module proxy serves. Everything the build writes (GOBIN, GOPATH with the
module cache, GOCACHE) lives under ``<cache_dir>/livekit/<version>/``, so it is shared by every
clone on the machine and never touches the user's own Go folders.

v1.13.5 is pinned: v1.13.6 to v1.13.11 ``replace`` pion's webrtc/dtls/ice modules with LiveKit
forks that the proxy refuses (``reference/real-clients-and-livekit.md``). The build takes about
3 minutes of one core (longer on a busy machine) and is serialised with a lock file, so two
starts racing for it build once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from rtcsim.services.errors import CommandError, LiveKitBuildError, ServiceError
from rtcsim.services.process import run
from simulator.settings import Settings

MODULE = "github.com/livekit/livekit-server/cmd/server"
BUILD_TIMEOUT_S = 1800.0
GO_FALLBACK = Path("/usr/local/go/bin/go")


def install_dir(settings: Settings) -> Path:
    return settings.cache_dir / "livekit" / settings.livekit_version


def binary_path(settings: Settings) -> Path:
    """Where ``go install`` leaves the server (it names the binary after ``cmd/server``)."""
    return install_dir(settings) / "bin" / "server"


def find_go() -> Path:
    """The Go toolchain: on PATH, or where the machine image puts it."""
    found = shutil.which("go")
    if found is not None:
        return Path(found)
    if GO_FALLBACK.is_file():
        return GO_FALLBACK
    raise LiveKitBuildError(
        "Go is not installed, so livekit-server cannot be built",
        hint="install Go (1.24 or newer) and put it on PATH",
    )


def build_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the build: every Go folder under the install dir.

    GOTOOLCHAIN=local: a module asking for a newer Go fails instead of downloading a toolchain.
    -modcacherw: the module cache stays deletable (Go makes it read-only by default).
    The proxy settings (GOPROXY, GOFLAGS) of the machine are kept.
    """
    root = install_dir(settings)
    env = dict(os.environ if base is None else base)
    flags = env.get("GOFLAGS", "").split()
    if "-modcacherw" not in flags:
        flags.append("-modcacherw")
    env.update(
        GOBIN=str(root / "bin"),
        GOPATH=str(root / "build" / "gopath"),
        GOMODCACHE=str(root / "build" / "gopath" / "pkg" / "mod"),
        GOCACHE=str(root / "build" / "gocache"),
        GOTOOLCHAIN="local",
        GOFLAGS=" ".join(flags),
    )
    return env


def installed_version(binary: Path) -> str | None:
    """What ``server --version`` says (``... version 1.13.5``), or None when it cannot run."""
    if not binary.is_file():
        return None
    try:
        out = run([str(binary), "--version"], timeout_s=30)
    except CommandError:
        return None
    words = out.split()
    return words[-1] if words else None


def is_built(settings: Settings) -> bool:
    wanted = settings.livekit_version.removeprefix("v")
    return installed_version(binary_path(settings)) == wanted


@contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_built(settings: Settings, *, timeout_s: float = BUILD_TIMEOUT_S) -> Path:
    """The livekit-server binary of ``settings.livekit_version``, built first if missing."""
    binary = binary_path(settings)
    if is_built(settings):
        return binary
    root = install_dir(settings)
    with _build_lock(root):
        if is_built(settings):  # built by whoever held the lock before us
            return binary
        go = find_go()
        log = root / "build.log"
        argv = [str(go), "install", f"{MODULE}@{settings.livekit_version}"]
        began = time.monotonic()
        try:
            out = run(argv, timeout_s=timeout_s, env=build_env(settings))
        except CommandError as exc:
            log.write_text(exc.output)
            raise LiveKitBuildError(
                f"building livekit-server {settings.livekit_version} failed",
                details=exc.details,
                hint=f"full output: {log}; the Go module proxy must be reachable "
                "(GOPROXY), and versions after v1.13.5 need modules it does not serve",
            ) from exc
        log.write_text(f"{out}\nbuilt in {time.monotonic() - began:.0f} s\n")
    if not is_built(settings):
        raise LiveKitBuildError(
            f"go install succeeded but {binary} does not report version {settings.livekit_version}",
            hint=f"delete {root} and build again",
        )
    return binary


def main() -> None:
    """``python -m rtcsim.services.livekit_build``: what ``make livekit`` runs."""
    try:
        settings = Settings()
        if not is_built(settings):
            print(f"building livekit-server {settings.livekit_version} (a few minutes)...")
        binary = ensure_built(settings)
    except (ServiceError, ValidationError) as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None
    print(f"livekit-server {settings.livekit_version}: {binary}")


if __name__ == "__main__":
    main()
