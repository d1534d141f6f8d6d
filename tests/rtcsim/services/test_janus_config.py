from __future__ import annotations

from pathlib import Path

import pytest

from rtcsim.services import jcfg
from rtcsim.services.janus import JanusPaths
from rtcsim.services.janus_config import write_config
from simulator.settings import Settings

DEBIAN = Path("/etc/janus")
pytestmark = pytest.mark.skipif(not (DEBIAN / "janus.jcfg").exists(), reason="janus not installed")


@pytest.fixture
def conf(settings: Settings) -> Path:
    paths = JanusPaths.from_settings(settings)
    write_config(settings, paths.conf_dir, paths.recordings_dir)
    return paths.conf_dir


def group(conf: Path, file: str, name: str) -> jcfg.Group:
    value = jcfg.load(conf / file)[name]
    assert isinstance(value, dict)
    return value


def disabled(conf: Path, section: str) -> set[str]:
    value = group(conf, "janus.jcfg", section)["disable"]
    assert isinstance(value, str)
    return set(value.split(","))


def test_every_debian_file_is_copied_and_etc_janus_is_untouched(conf: Path) -> None:
    assert {p.name for p in conf.glob("*.jcfg")} == {p.name for p in DEBIAN.glob("*.jcfg")}
    assert group(Path("/etc/janus"), "janus.jcfg", "general")["configs_folder"] == "/etc/janus"


def test_janus_uses_only_the_sfu_veth_and_no_stun(conf: Path, settings: Settings) -> None:
    general = group(conf, "janus.jcfg", "general")
    nat = group(conf, "janus.jcfg", "nat")
    assert general["interface"] == settings.sfu_address
    assert general["configs_folder"] == str(conf)
    assert nat["ice_enforce_list"] == settings.sfu_veth
    assert nat["ignore_mdns"] is True
    assert not {"stun_server", "turn_server", "nat_1_1_mapping"} & set(nat)


def test_session_timeout_admin_secret_and_rtp_ports_come_from_settings(
    conf: Path, settings: Settings
) -> None:
    general = group(conf, "janus.jcfg", "general")
    assert general["session_timeout"] == settings.janus_session_timeout_s
    assert general["admin_secret"] == settings.janus_admin_secret
    assert group(conf, "janus.jcfg", "media")["rtp_port_range"] == settings.janus_rtp_port_range


def test_the_session_timeout_is_janus_default_which_keeps_janus_js_over_http_alive() -> None:
    """janus.js over HTTP long-polls for 30 s and sends no keepalives: a shorter timeout ends
    a real browser that is still there (``shared/reference/real-clients-and-livekit.md``)."""
    assert Settings.model_fields["janus_session_timeout_s"].default == 60


def test_vanished_peers_are_found_by_ice_keepalive_connectivity_checks(conf: Path) -> None:
    assert group(conf, "janus.jcfg", "nat")["ice_keepalive_conncheck"] is True


def test_debian_protected_folders_are_kept_and_recordings_are_outside_them(
    conf: Path, settings: Settings
) -> None:
    protected = group(conf, "janus.jcfg", "general")["protected_folders"]
    assert isinstance(protected, list)
    assert "/var" in protected
    recordings = JanusPaths.from_settings(settings).recordings_dir
    assert recordings.is_dir()
    assert not any(str(recordings).startswith(f"{p}/") for p in protected if isinstance(p, str))


def test_only_videoroom_http_and_sample_event_handler_load(conf: Path) -> None:
    assert "libjanus_videoroom.so" not in disabled(conf, "plugins")
    assert {"libjanus_streaming.so", "libjanus_echotest.so"} <= disabled(conf, "plugins")
    assert "libjanus_http.so" not in disabled(conf, "transports")
    assert "libjanus_websockets.so" in disabled(conf, "transports")
    assert "libjanus_sampleevh.so" not in disabled(conf, "events")
    assert "libjanus_wsevh.so" in disabled(conf, "events")
    assert "libjanus_jsonlog.so" in disabled(conf, "loggers")


def test_event_handlers_broadcast_with_media_stats_every_second(conf: Path) -> None:
    events = group(conf, "janus.jcfg", "events")
    assert events["broadcast"] is True
    assert events["stats_period"] == 1


def test_api_listens_on_the_veth_address_and_admin_on_loopback(
    conf: Path, settings: Settings
) -> None:
    general = group(conf, "janus.transport.http.jcfg", "general")
    admin = group(conf, "janus.transport.http.jcfg", "admin")
    assert (general["ip"], general["port"], general["http"], general["https"]) == (
        settings.sfu_address,
        settings.janus_http_port,
        True,
        False,
    )
    assert (admin["admin_ip"], admin["admin_port"], admin["admin_http"]) == (
        "127.0.0.1",
        settings.janus_admin_port,
        True,
    )


def test_videoroom_has_string_ids_and_no_sample_rooms(conf: Path) -> None:
    assert jcfg.load(conf / "janus.plugin.videoroom.jcfg") == {
        "general": group(conf, "janus.plugin.videoroom.jcfg", "general")
    }
    assert group(conf, "janus.plugin.videoroom.jcfg", "general")["string_ids"] is True


def test_event_handler_posts_everything_grouped_to_the_collector_with_credentials(
    conf: Path, settings: Settings
) -> None:
    sample = group(conf, "janus.eventhandler.sampleevh.jcfg", "general")
    assert sample == sample | {
        "enabled": True,
        "events": "all",
        "grouping": True,
        "json": "plain",
        "backend": f"http://127.0.0.1:{settings.collector_events_port}/events",
        "backend_user": settings.collector_events_user,
        "backend_pwd": settings.collector_events_password,
        "max_retransmissions": 6,
        "retransmissions_backoff": 100,
    }


def test_regenerating_removes_files_left_from_an_earlier_config(
    conf: Path, settings: Settings
) -> None:
    (conf / "janus.plugin.stale.jcfg").write_text("general: {}\n")
    paths = JanusPaths.from_settings(settings)
    write_config(settings, paths.conf_dir, paths.recordings_dir)
    assert not (conf / "janus.plugin.stale.jcfg").exists()
