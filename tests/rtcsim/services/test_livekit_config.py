"""The configuration rtcsim generates for livekit-server keeps it inside the namespaces."""

import stat
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from rtcsim.services.livekit_config import render_config, write_config
from simulator.driver.livekit.keys import LiveKitCredentials
from simulator.settings import Settings
from tests.rtcsim.services.conftest import make_settings

KEYS = LiveKitCredentials("APIkey", "s" * 43)


def test_livekit_binds_to_the_sfu_address_and_asks_no_stun_server(settings: Settings) -> None:
    config = render_config(settings, KEYS)
    assert config["bind_addresses"] == [settings.sfu_address]
    rtc = config["rtc"]
    assert rtc["use_external_ip"] is False
    # Without a node IP LiveKit gives its ICE agent Google's STUN servers.
    assert rtc["node_ip"] == settings.sfu_address
    assert "stun_servers" not in rtc
    assert rtc["ips"] == {"includes": [f"{settings.sfu_address}/32"]}
    assert rtc["interfaces"] == {"includes": [settings.sfu_veth]}
    assert rtc["enable_loopback_candidate"] is False
    assert config["turn"] == {"enabled": False}


def test_ice_is_udp_only_in_the_configured_port_range(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, livekit_rtc_port_range="41000-41999")
    rtc = render_config(settings, KEYS)["rtc"]
    assert (rtc["port_range_start"], rtc["port_range_end"]) == (41000, 41999)
    assert rtc["tcp_port"] == 0
    assert rtc["allow_tcp_fallback"] is False


def test_congestion_control_stays_livekits_default_unless_turned_off(tmp_path: Path) -> None:
    assert render_config(make_settings(tmp_path), KEYS)["rtc"]["congestion_control"] == {
        "enabled": True
    }
    off = make_settings(tmp_path, livekit_congestion_control=False)
    assert render_config(off, KEYS)["rtc"]["congestion_control"] == {"enabled": False}


def test_webhooks_go_to_the_collector_unless_told_otherwise(tmp_path: Path) -> None:
    default = render_config(make_settings(tmp_path), KEYS)["webhook"]
    assert default == {"api_key": "APIkey", "urls": ["http://127.0.0.1:8190/livekit"]}
    other = make_settings(tmp_path, livekit_webhook_url="http://127.0.0.1:9999/hooks")
    assert render_config(other, KEYS)["webhook"]["urls"] == ["http://127.0.0.1:9999/hooks"]


def test_the_key_pair_and_room_timeouts_are_in_the_config(settings: Settings) -> None:
    config = render_config(settings, KEYS)
    assert config["keys"] == {"APIkey": "s" * 43}
    assert config["room"]["departure_timeout"] == settings.livekit_departure_timeout_s


def test_prometheus_is_off_at_port_zero(tmp_path: Path) -> None:
    assert "prometheus" not in render_config(
        make_settings(tmp_path, livekit_prometheus_port=0), KEYS
    )


def test_the_written_config_is_owner_only_and_rewritten_only_when_it_changes(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "lk" / "livekit.yaml"
    assert write_config(settings, KEYS, path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["port"] == settings.livekit_port
    assert write_config(settings, KEYS, path) is False
    assert write_config(settings, LiveKitCredentials("APIother", "t" * 43), path) is True


@pytest.mark.parametrize("bad", ["50000", "60000-50000", "80-90", "a-b"])
def test_a_port_range_that_is_no_range_is_refused_naming_it(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValidationError, match="is not a port range"):
        make_settings(tmp_path, livekit_rtc_port_range=bad)
