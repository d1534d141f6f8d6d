"""The CA and node certificate rtcsim makes for its secured Elasticsearch."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from rtcsim.services.es_security import make_certificates


def test_the_node_certificate_is_signed_by_the_ca_for_the_nodes_address(tmp_path: Path) -> None:
    files = make_certificates(tmp_path / "certs", "127.0.0.1")
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    node = x509.load_pem_x509_certificate(files.node_cert.read_bytes())
    node.verify_directly_issued_by(ca)
    names = node.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert files.node_key.stat().st_mode & 0o077 == 0, "the key is readable by its owner only"


def test_certificates_are_made_once_and_kept(tmp_path: Path) -> None:
    first = make_certificates(tmp_path, "127.0.0.1").ca_cert.read_bytes()
    assert make_certificates(tmp_path, "127.0.0.1").ca_cert.read_bytes() == first
