"""A throwaway certificate for a local TLS mail server in tests (GreenMail's SMTPS and IMAPS, the
STARTTLS submission server of :mod:`helpdesk_devstack.submission`).

Self-signed for ``127.0.0.1`` and ``localhost``, valid for two days: GreenMail gets it as a
PKCS#12 keystore (what Java reads), a Python server as a PEM key encrypted with the same password
(what ``ssl.SSLContext.load_cert_chain`` reads); clients trust it through its PEM file
(``SSL_CERT_FILE`` for a service's process, or ``cafile=`` for a test's own connections).
Certificate checks stay on everywhere: a client that does not trust this file must refuse the
server.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path  # PEM: what clients trust
    keystore: Path  # PKCS#12 with the key and certificate: what the server presents
    password: str
    private_key: Path  # the same key as PEM, encrypted with ``password`` (Python's ssl)


def make_local_certificate(directory: Path) -> TlsFiles:
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "helpdesk test mail server")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    password = secrets.token_urlsafe(12)
    # The older PKCS#12 encryption every Java reads (the default AES one needs a newer JDK).
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 - the keystore's MAC, as Java expects it
        .build(password.encode())
    )
    keystore = directory / "mail-server.p12"
    keystore.write_bytes(
        pkcs12.serialize_key_and_certificates(b"greenmail", key, certificate, None, encryption)
    )
    pem = directory / "mail-server.pem"
    pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private_key = directory / "mail-server.key"
    private_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        )
    )
    return TlsFiles(pem, keystore, password, private_key)
