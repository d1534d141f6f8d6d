"""Building livekit-server once into the cache, with a fake Go (no network here)."""

import os
import stat
from pathlib import Path

import pytest

from rtcsim.services import livekit_build
from rtcsim.services.errors import LiveKitBuildError
from simulator.settings import Settings
from tests.rtcsim.services.conftest import make_settings

FAKE_GO = """#!/bin/sh
# records its arguments and environment, then "installs" a server that prints a version
mkdir -p "$GOBIN"
echo "$@" > "$GOBIN/../go-args"
echo "$GOPATH $GOCACHE $GOTOOLCHAIN $GOFLAGS" > "$GOBIN/../go-env"
[ -n "$FAIL" ] && { echo "go: module lookup disabled" >&2; exit 1; }
printf '#!/bin/sh\\necho "livekit-server version %s"\\n' "$VERSION" > "$GOBIN/server"
chmod +x "$GOBIN/server"
"""


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "gobin"
    folder.mkdir()
    go = folder / "go"
    go.write_text(FAKE_GO)
    go.chmod(go.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("VERSION", "1.13.5")
    return go


@pytest.fixture
def cached(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "state", cache_dir=tmp_path / "cache")


def test_the_build_puts_every_go_folder_under_the_cache(cached: Settings) -> None:
    env = livekit_build.build_env(cached, {"GOFLAGS": "-buildvcs=false", "PATH": "/bin"})
    root = cached.cache_dir / "livekit" / "v1.13.5"
    assert env["GOBIN"] == str(root / "bin")
    assert env["GOPATH"].startswith(str(root))
    assert env["GOCACHE"].startswith(str(root))
    assert env["GOTOOLCHAIN"] == "local"  # never download a toolchain
    assert env["GOFLAGS"].split() == ["-buildvcs=false", "-modcacherw"]


def test_ensure_built_installs_the_pinned_version_once(fake_go: Path, cached: Settings) -> None:
    binary = livekit_build.ensure_built(cached)
    assert binary == livekit_build.binary_path(cached)
    assert livekit_build.installed_version(binary) == "1.13.5"
    args = (binary.parent.parent / "go-args").read_text().split()
    assert args == ["install", "github.com/livekit/livekit-server/cmd/server@v1.13.5"]
    (binary.parent.parent / "go-args").unlink()
    livekit_build.ensure_built(cached)
    assert not (binary.parent.parent / "go-args").exists()  # not built again


def test_a_binary_of_another_version_is_rebuilt(
    fake_go: Path, cached: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERSION", "1.13.4")
    with pytest.raises(LiveKitBuildError, match=r"does not report version v1\.13\.5"):
        livekit_build.ensure_built(cached)
    monkeypatch.setenv("VERSION", "1.13.5")
    assert livekit_build.is_built(cached) is False
    livekit_build.ensure_built(cached)
    assert livekit_build.is_built(cached) is True


def test_a_failed_build_says_so_with_its_output_and_where_the_log_is(
    fake_go: Path, cached: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIL", "1")
    with pytest.raises(
        LiveKitBuildError, match=r"building livekit-server v1\.13\.5 failed"
    ) as info:
        livekit_build.ensure_built(cached)
    assert "module lookup disabled" in str(info.value)
    assert "build.log" in str(info.value)


def test_without_go_the_error_says_to_install_it(
    cached: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(livekit_build, "GO_FALLBACK", Path("/nonexistent/go"))
    with pytest.raises(LiveKitBuildError, match="Go is not installed"):
        livekit_build.ensure_built(cached)
