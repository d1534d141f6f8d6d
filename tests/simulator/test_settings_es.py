"""Elasticsearch hosts, credentials and TLS: one place in the settings, one client factory."""

from __future__ import annotations

import ast
import base64
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from collector.store.client import make_client
from rtcsim.services.collector import launch_command
from simulator.driver.livekit.keys import ensure_credentials
from simulator.settings import Settings

CA = Path("/etc/ssl/certs/ca-certificates.crt")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def plain(**changes: Any) -> Settings:
    return Settings(**{"es_host": "127.0.0.1", "es_port": 9200, "es_scheme": "http", **changes})


def secured(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "es_scheme": "https",
        "es_host": "es.example.internal",
        "es_port": 9200,
        "es_user": "rtcsim",
        "es_password": "es-pw-7",
        "es_ca_certs": CA,
        **changes,
    }
    return Settings(**values)


def test_defaults_keep_plain_http_without_credentials() -> None:
    options = plain().es_client_options()
    assert options.hosts == ("http://127.0.0.1:9200",)
    assert options.kwargs() == {
        "request_timeout": 30.0,
        "max_retries": 3,
        "retry_on_timeout": False,
    }


def test_https_with_user_and_password_verifies_certificates_with_the_ca() -> None:
    settings = secured()
    assert settings.es_url == "https://es.example.internal:9200"
    kwargs = settings.es_client_options().kwargs()
    assert kwargs["basic_auth"] == ("rtcsim", "es-pw-7")
    assert kwargs["verify_certs"] is True
    assert kwargs["ca_certs"] == str(CA)


def test_an_api_key_is_passed_as_api_key() -> None:
    settings = secured(es_user=None, es_password=None, es_api_key="key-123")
    kwargs = settings.es_client_options().kwargs()
    assert kwargs["api_key"] == "key-123"
    assert "basic_auth" not in kwargs


def test_secrets_are_hidden_in_the_settings_and_options_repr() -> None:
    settings = secured(es_api_key="key-123")
    for text in (repr(settings), repr(settings.es_client_options())):
        assert "es-pw-7" not in text
        assert "key-123" not in text


def test_every_node_of_rtcsims_cluster_is_a_host_of_the_client() -> None:
    settings = plain(es_cluster_ports=[9202, 9203])
    assert settings.es_urls == [
        "http://127.0.0.1:9200",
        "http://127.0.0.1:9202",
        "http://127.0.0.1:9203",
    ]
    assert settings.es_client_options().hosts == tuple(settings.es_urls)


def test_an_existing_clusters_hosts_replace_rtcsims_own_node() -> None:
    settings = plain(es_hosts=["https://es1.internal:9200", "https://es2.internal:9200"])
    assert settings.es_urls == ["https://es1.internal:9200", "https://es2.internal:9200"]
    assert settings.es_url == "https://es1.internal:9200"


def test_an_unsupported_elasticsearch_version_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match=r"Elasticsearch 6\.8\.23 is not supported"):
        plain(es_version="6.8.23")
    with pytest.raises(ValidationError, match="not an Elasticsearch version"):
        plain(es_version="latest")


def test_security_needs_https_and_a_user() -> None:
    with pytest.raises(ValidationError, match="es_scheme = https"):
        plain(es_security=True, es_user="u", es_password="secret1")
    with pytest.raises(ValidationError, match="es_user and es_password"):
        secured(es_security=True, es_user=None)


def test_a_secured_own_node_is_verified_with_the_ca_rtcsim_made() -> None:
    settings = secured(es_security=True, es_ca_certs=None, es_dir=Path("/var/lib/x/es"))
    assert settings.es_ca_file == Path("/var/lib/x/es/certs/ca.crt")
    assert settings.es_client_options().ca_certs == "/var/lib/x/es/certs/ca.crt"


async def test_a_client_built_from_the_settings_authenticates_and_checks_the_certificate() -> None:
    client = make_client(secured().es_client_options(), 8)
    try:
        expected = "Basic " + base64.b64encode(b"rtcsim:es-pw-7").decode()
        assert client._headers["authorization"] == expected
        [node] = client.transport.node_pool.all()
        assert node.config.scheme == "https"
        assert node.config.verify_certs is True
        assert node.config.ca_certs == str(CA)
    finally:
        await client.close()


def test_no_elasticsearch_client_is_made_outside_the_one_factory() -> None:
    """``AsyncElasticsearch(...)`` appears in ``collector/store/client.py`` alone: every other
    client comes from ``make_client``/``connect``/``open_client`` (hosts, TLS, credentials,
    timeouts and the server's major in one place)."""
    factory = PROJECT_ROOT / "collector" / "store" / "client.py"
    calls: list[str] = []
    for folder in ("collector", "simulator", "rtcsim", "bench"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("AsyncElasticsearch", "Elasticsearch")
                ):
                    calls.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert [c for c in calls if not c.startswith(str(factory.relative_to(PROJECT_ROOT)))] == []
    assert len(calls) == 1


def test_the_collector_is_launched_with_the_credentials_in_its_environment() -> None:
    argv, env = launch_command(secured(es_api_key="key-123"))
    assert env["RTCSIM_COLLECTOR_ES_HOSTS"] == '["https://es.example.internal:9200"]'
    assert env["RTCSIM_COLLECTOR_ES_USER"] == "rtcsim"
    assert env["RTCSIM_COLLECTOR_ES_PASSWORD"] == "es-pw-7"
    assert env["RTCSIM_COLLECTOR_ES_API_KEY"] == "key-123"
    assert env["RTCSIM_COLLECTOR_ES_CA_CERTS"] == str(CA)
    assert not any("es-pw-7" in arg or "key-123" in arg for arg in argv)


def test_the_collector_gets_every_node_of_the_cluster() -> None:
    _argv, env = launch_command(plain(es_cluster_ports=[9202, 9203]))
    assert env["RTCSIM_COLLECTOR_ES_HOSTS"] == (
        '["http://127.0.0.1:9200", "http://127.0.0.1:9202", "http://127.0.0.1:9203"]'
    )


def test_the_collector_gets_no_credential_variables_when_none_are_set() -> None:
    _argv, env = launch_command(plain())
    assert not any(
        k.startswith("RTCSIM_COLLECTOR_ES_") and k != "RTCSIM_COLLECTOR_ES_HOSTS" for k in env
    )


def test_a_cluster_client_tries_every_node_even_when_told_not_to_retry() -> None:
    kwargs = plain(es_cluster_ports=[9202, 9203]).es_client_options(max_retries=0).kwargs()
    assert kwargs["max_retries"] == 2
    assert kwargs["retry_on_timeout"] is True


def test_the_collector_gets_the_stacks_livekit_keys_in_its_environment(tmp_path: Path) -> None:
    keys = ensure_credentials(tmp_path)
    argv, env = launch_command(plain(state_dir=tmp_path))
    assert env["RTCSIM_COLLECTOR_LIVEKIT_API_KEY"] == keys.api_key
    assert env["RTCSIM_COLLECTOR_LIVEKIT_API_SECRET"] == keys.api_secret
    assert not any(keys.api_secret in arg for arg in argv)
