"""Elasticsearch credentials and TLS: one place in the settings, used by every client."""

from __future__ import annotations

import ast
import base64
from pathlib import Path
from typing import Any

from elasticsearch import AsyncElasticsearch

from rtcsim.services.collector import launch_command
from simulator.settings import PROJECT_ROOT, Settings

CA = Path("/etc/ssl/certs/ca-certificates.crt")


def secured(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "es_scheme": "https",
        "es_host": "es.example.internal",
        "es_user": "rtcsim",
        "es_password": "es-pw-7",
        "es_ca_certs": CA,
        **changes,
    }
    return Settings(**values)


def test_defaults_keep_plain_http_without_credentials() -> None:
    settings = Settings()
    assert settings.es_url == "http://127.0.0.1:9200"
    assert settings.es_client_options() == {}


def test_https_with_user_and_password_verifies_certificates_with_the_ca() -> None:
    settings = secured()
    assert settings.es_url == "https://es.example.internal:9200"
    assert settings.es_client_options() == {
        "basic_auth": ("rtcsim", "es-pw-7"),
        "verify_certs": True,
        "ca_certs": str(CA),
    }


def test_an_api_key_is_passed_as_api_key() -> None:
    settings = secured(es_user=None, es_password=None, es_api_key="key-123")
    assert settings.es_client_options()["api_key"] == "key-123"
    assert "basic_auth" not in settings.es_client_options()


def test_secrets_are_hidden_in_the_settings_repr() -> None:
    settings = secured(es_api_key="key-123")
    assert "es-pw-7" not in repr(settings)
    assert "key-123" not in repr(settings)


async def test_a_client_built_from_the_settings_authenticates_and_checks_the_certificate() -> None:
    settings = secured()
    client = AsyncElasticsearch(settings.es_url, **settings.es_client_options())
    try:
        expected = "Basic " + base64.b64encode(b"rtcsim:es-pw-7").decode()
        assert client._headers["authorization"] == expected
        [node] = client.transport.node_pool.all()
        assert node.config.scheme == "https"
        assert node.config.verify_certs is True
        assert node.config.ca_certs == str(CA)
    finally:
        await client.close()


def test_every_elasticsearch_client_of_the_simulator_gets_the_options() -> None:
    """Each ``AsyncElasticsearch(...)`` call in ``rtcsim/`` and ``simulator/`` passes
    ``es_client_options()``."""
    calls: list[tuple[Path, int, bool]] = []
    paths = [p for pkg in ("rtcsim", "simulator") for p in (PROJECT_ROOT / pkg).rglob("*.py")]
    for path in sorted(paths):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "AsyncElasticsearch"
            ):
                given = any(
                    kw.arg is None and "es_client_options" in ast.unparse(kw.value)
                    for kw in node.keywords
                )
                calls.append((path.relative_to(PROJECT_ROOT), node.lineno, given))
    assert len(calls) >= 3
    assert [c for c in calls if not c[2]] == []


def test_the_collector_is_launched_with_the_credentials_in_its_environment() -> None:
    argv, env = launch_command(secured(es_api_key="key-123"))
    assert env["RTCSIM_COLLECTOR_ES_HOSTS"] == '["https://es.example.internal:9200"]'
    assert env["RTCSIM_COLLECTOR_ES_USER"] == "rtcsim"
    assert env["RTCSIM_COLLECTOR_ES_PASSWORD"] == "es-pw-7"
    assert env["RTCSIM_COLLECTOR_ES_API_KEY"] == "key-123"
    assert env["RTCSIM_COLLECTOR_ES_CA_CERTS"] == str(CA)
    assert not any("es-pw-7" in arg or "key-123" in arg for arg in argv)


def test_the_collector_gets_no_credential_variables_when_none_are_set() -> None:
    _argv, env = launch_command(Settings())
    assert not any(
        k.startswith("RTCSIM_COLLECTOR_ES_") and k != "RTCSIM_COLLECTOR_ES_HOSTS" for k in env
    )
