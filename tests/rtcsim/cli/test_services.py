from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rtcsim.cli.services import app
from tests.rtcsim.services.conftest import TEST_OVERRIDES


@pytest.fixture(autouse=True)
def test_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for key, value in TEST_OVERRIDES.items():
        monkeypatch.setenv(f"RTCSIM_{key.upper()}", str(value))
    monkeypatch.setenv("RTCSIM_STATE_DIR", str(tmp_path))


def test_a_service_error_exits_2_with_the_message_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RTCSIM_SFU_VETH", "a-very-long-veth-name")
    result = CliRunner().invoke(app, ["up"])
    assert result.exit_code == 2
    assert "interface name 'a-very-long-veth-name' is not valid" in result.output
    assert "at most 15 characters" in result.output
    assert "Traceback" not in result.output


def test_invalid_settings_exit_2_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTCSIM_ES_PORT", "not-a-port")
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 2
    assert "invalid settings" in result.output
    assert "Traceback" not in result.output


def test_status_of_a_stack_that_is_not_up_exits_1_and_lists_every_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RTCSIM_SFU_NETNS", "rtcsvc-absent-s")
    monkeypatch.setenv("RTCSIM_CLIENT_NETNS", "rtcsvc-absent-c")
    monkeypatch.setenv("RTCSIM_ES_PORT", "9251")
    monkeypatch.setenv("RTCSIM_COLLECTOR_API_PORT", "8193")
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 1
    for name in ("namespaces", "elasticsearch", "collector", "janus"):
        assert name in result.output


def test_a_livekit_port_range_that_is_no_range_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RTCSIM_LIVEKIT_RTC_PORT_RANGE", "60000-50000")
    result = CliRunner().invoke(app, ["up", "--livekit"])
    assert result.exit_code == 2
    assert "livekit_rtc_port_range" in result.output
    assert "'60000-50000' is not a port range" in result.output
    assert "Traceback" not in result.output
