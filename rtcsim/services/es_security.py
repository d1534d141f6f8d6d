"""Security for the Elasticsearch nodes rtcsim runs itself: a CA, node certificates, a user.

With ``es_security`` on, rtcsim's node(s) run as a secured cluster does: X-Pack security on,
TLS on HTTP and on the transport with certificates signed by a CA of rtcsim's own, and a user in
the file realm. Elasticsearch's own docs set it up the same way ("Set up basic security plus
HTTPS"): ``elasticsearch-certutil`` makes a CA and node certificates, ``elasticsearch-users``
adds a file-realm user. The certificates are made here with ``cryptography`` (no JVM start per
certificate); the user is added with the distribution's own ``elasticsearch-users``.

The integ-test-zip rtcsim installs carries the ``x-pack-core`` and ``x-pack-security`` modules
in 7.17, 8.x and 9.x, so this is Elasticsearch's security itself, not a proxy in front of it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rtcsim.services.errors import CommandError, ElasticsearchError
from rtcsim.services.process import run

CERTS_DIR = "certs"  # under the node's config/, where Elasticsearch resolves relative paths
VALID_DAYS = 825
SUPERUSER_ROLE = "superuser"


@dataclass(frozen=True)
class CertFiles:
    """The PEM files of one secured cluster: the CA and the one certificate every node uses."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def node_cert(self) -> Path:
        return self.folder / "node.crt"

    @property
    def node_key(self) -> Path:
        return self.folder / "node.key"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rtcsim"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certificates(folder: Path, host: str) -> CertFiles:
    """A CA and a node certificate for ``host`` (plus ``localhost``), made once and kept.

    One certificate for every node: they all listen on ``host``, and transport TLS checks the
    chain (``verification_mode: certificate``), so a per-node name would add nothing here.
    """
    files = CertFiles(folder)
    if all(p.is_file() for p in (files.ca_cert, files.node_cert, files.node_key)):
        return files
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    until = now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("rtcsim Elasticsearch CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    node_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    if host != "127.0.0.1":
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    node = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca_name)
        .public_key(node_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files.ca_key.write_bytes(_pem_key(ca_key))
    files.node_key.write_bytes(_pem_key(node_key))
    files.ca_key.chmod(0o600)
    files.node_key.chmod(0o600)
    files.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.node_cert.write_bytes(node.public_bytes(serialization.Encoding.PEM))
    return files


def install_certificates(files: CertFiles, config: Path, user: pwd.struct_passwd) -> None:
    """Copy the node's key, certificate and the CA into ``config/certs`` (never the CA key)."""
    target = config / CERTS_DIR
    target.mkdir(exist_ok=True)
    os.chown(target, user.pw_uid, user.pw_gid)
    for source in (files.ca_cert, files.node_cert, files.node_key):
        dest = target / source.name
        dest.write_bytes(source.read_bytes())
        dest.chmod(0o600 if source == files.node_key else 0o644)
        os.chown(dest, user.pw_uid, user.pw_gid)


def security_args() -> list[str]:
    """``-E`` settings for security with TLS on HTTP and transport (paths under config/)."""
    args = ["-Expack.security.enabled=true"]
    for layer in ("http", "transport"):
        prefix = f"-Expack.security.{layer}.ssl"
        args += [
            f"{prefix}.enabled=true",
            f"{prefix}.key={CERTS_DIR}/node.key",
            f"{prefix}.certificate={CERTS_DIR}/node.crt",
            f"{prefix}.certificate_authorities={CERTS_DIR}/ca.crt",
        ]
    args.append("-Expack.security.transport.ssl.verification_mode=certificate")
    return args


def add_user(
    home: Path, os_user: str, java_home: Path, name: str, password: str, role: str
) -> None:
    """Put ``name`` in the node's file realm with ``role`` (replacing an earlier entry)."""
    tool = str(home / "bin" / "elasticsearch-users")
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "ES_JAVA_HOME": str(java_home),
    }
    prefix = ["setpriv", f"--reuid={os_user}", f"--regid={os_user}", "--init-groups"]
    users = home / "config" / "users"
    if users.is_file() and any(
        line.split(":", 1)[0] == name for line in users.read_text().splitlines()
    ):
        run([*prefix, tool, "userdel", name], env=env, timeout_s=120)
    try:
        run([*prefix, tool, "useradd", name, "-p", password, "-r", role], env=env, timeout_s=120)
    except CommandError as exc:
        raise ElasticsearchError(
            f"cannot add the Elasticsearch user {name!r} with elasticsearch-users",
            details=exc.details,
            hint="a password needs at least 6 characters",
        ) from exc
