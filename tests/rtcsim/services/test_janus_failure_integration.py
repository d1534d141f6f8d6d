"""A Janus that cannot start must say why: the error carries its log's last lines."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcsim.services import janus, netns
from rtcsim.services.errors import JanusError, JanusStartupError
from simulator.settings import Settings

from .conftest import make_settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not janus.JANUS_BIN.exists(), reason="janus not installed"),
]


@pytest.fixture
def pair(tmp_path: Path, integration_lock: None) -> Iterator[Settings]:
    settings = make_settings(
        tmp_path / "state",
        sfu_netns="rtcsvc-fsfu",
        client_netns="rtcsvc-fcli",
        sfu_veth="rtcsvc-fs0",
        client_veth="rtcsvc-fc0",
        sfu_address="198.19.2.1",
        client_address="198.19.2.2",
        janus_http_port=8288,
        janus_admin_port=7288,
    )
    netns.ensure(settings)
    yield settings
    janus.stop(settings)
    netns.remove(settings)


def broken_debian_conf(tmp_path: Path) -> Path:
    """Debian's files, with a plugins folder that does not exist (Janus exits at once)."""
    source = tmp_path / "etc-janus"
    shutil.copytree("/etc/janus", source)
    main = source / "janus.jcfg"
    main.write_text(
        main.read_text().replace(
            "/usr/lib/x86_64-linux-gnu/janus/plugins", "/nonexistent/rtcsim-plugins"
        )
    )
    return source


def test_janus_failing_to_start_shows_the_tail_of_its_log(pair: Settings, tmp_path: Path) -> None:
    with pytest.raises(JanusStartupError) as caught:
        janus.start(pair, source_dir=broken_debian_conf(tmp_path), timeout_s=10)
    message = str(caught.value)
    assert "Janus exited with code" in message
    assert "/nonexistent/rtcsim-plugins" in message
    assert "  | " in message
    assert janus.pid(pair) is None
    assert not janus.JanusPaths.from_settings(pair).pid_file.exists()


def test_janus_start_without_namespaces_says_to_run_services_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sfu_netns="rtcsvc-none-s", client_netns="rtcsvc-none-c")
    with pytest.raises(JanusError, match="rtcsim services up"):
        janus.start(settings)


def test_janus_started_twice_is_reused_and_stopped_once(pair: Settings) -> None:
    first = janus.start(pair)
    second = janus.start(pair)
    assert (second.pid, second.reused, first.reused) == (first.pid, True, False)
    assert janus.stop(pair) is True
    assert janus.stop(pair) is False
    assert janus.pid(pair) is None


def test_janus_is_restarted_when_its_configuration_changes(pair: Settings) -> None:
    first = janus.start(pair)
    changed = pair.model_copy(update={"janus_session_timeout_s": 90})
    second = janus.start(changed)
    assert not second.reused
    assert second.pid != first.pid
    janus.stop(changed)
