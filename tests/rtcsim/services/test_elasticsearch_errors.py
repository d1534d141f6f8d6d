from __future__ import annotations

import http.server
import shutil
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcsim.services import elasticsearch, es_install
from rtcsim.services.errors import MavenError, PortInUseError
from simulator.settings import Settings

from .conftest import make_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"hi")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_port_held_by_an_http_server_that_is_not_elasticsearch_is_named(
    tmp_path: Path, http_server_port: int
) -> None:
    settings = make_settings(tmp_path / "state", es_port=http_server_port)
    assert elasticsearch.probe_port(settings) is elasticsearch.EsPort.OTHER
    with pytest.raises(PortInUseError, match=f"127.0.0.1:{http_server_port} is taken"):
        elasticsearch.start(settings, maven_repository=tmp_path / "m2")
    assert not (tmp_path / "m2").exists(), "nothing is downloaded when the port is taken"


def test_a_port_held_by_a_silent_listener_is_not_elasticsearch(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        settings = make_settings(tmp_path / "state", es_port=listener.getsockname()[1])
        assert elasticsearch.probe_port(settings) is elasticsearch.EsPort.OTHER


def test_a_free_port_is_reported_free(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "state", es_port=free_port())
    assert elasticsearch.probe_port(settings) is elasticsearch.EsPort.FREE


@pytest.mark.skipif(shutil.which("mvn") is None, reason="Maven not installed")
def test_a_version_maven_central_does_not_have_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MavenError) as caught:
        es_install.fetch_zip("0.0.1-rtcsim-missing", repository=tmp_path / "m2")
    message = str(caught.value)
    assert "could not download Elasticsearch 0.0.1-rtcsim-missing with Maven" in message
    assert "  | " in message, "Maven's own last lines are quoted"
    assert "Maven Central" in message


def test_a_missing_mvn_binary_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(MavenError, match="make setup"):
        es_install.fetch_zip("9.5.0", repository=tmp_path, mvn=str(tmp_path / "no-mvn"))


def test_unpacking_keeps_executable_bits_and_drops_the_top_folder(tmp_path: Path) -> None:
    zip_path = tmp_path / "es.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for name, mode in (
            ("elasticsearch-1/bin/elasticsearch", 0o755),
            ("elasticsearch-1/x.yml", 0o644),
        ):
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, "content")
    target = es_install.unpack(zip_path, tmp_path / "cache" / "elasticsearch-1")
    assert (target / "bin" / "elasticsearch").stat().st_mode & 0o777 == 0o755
    assert (target / "x.yml").stat().st_mode & 0o777 == 0o644
    assert not (tmp_path / "cache" / "elasticsearch-1.partial").exists()


def test_settings_fixture_never_uses_the_default_port(settings: Settings) -> None:
    assert settings.es_port != 9200
