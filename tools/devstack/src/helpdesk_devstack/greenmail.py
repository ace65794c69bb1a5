"""GreenMail: a real SMTP + IMAP server for the local stack and the tests (DESIGN.md §5).

The mail gateway reads support inboxes over IMAP (IDLE) and sends replies over SMTP; the API
gateway and the notification service send sign-in links and notifications. None of them is tested
against a mock: they talk to this server. It runs from the ``greenmail-standalone`` jar pinned by
``tools/devstack/greenmail/pom.xml``.

Every mailbox is reachable without setting it up first: authentication is disabled and the login
is the full address, so a test (or a newcomer after ``make up``) reads ``budi@example.co.id``'s
mail by logging in as ``budi@example.co.id`` with any password. The support mailbox exists from
the start (``support@helpdesk.local``, password ``support``). Never a production setting: it is
the local stand-in for a provider's mail server, not part of the product.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.kafka import find_java
from helpdesk_devstack.maven import Progress, install_jars, jars_installed, no_progress
from helpdesk_devstack.procs import (
    PidFileProcess,
    ensure_port_free,
    indent_tail,
    port_in_use,
)
from helpdesk_devstack.tls import TlsFiles

GREENMAIL_VERSION = "2.1.13"
_JAR = f"greenmail-standalone-{GREENMAIL_VERSION}.jar"

#: The support mailbox the local stack's mail gateway watches from the first start.
SUPPORT_ADDRESS = "support@helpdesk.local"
SUPPORT_PASSWORD = "support"  # noqa: S105 - the local stand-in's fixed, documented password


def greenmail_installed(libs_dir: Path, pom: Path | None = None) -> bool:
    return jars_installed(libs_dir, _JAR, pom)


def install_greenmail(pom: Path, libs_dir: Path, *, progress: Progress = no_progress) -> bool:
    """Copy the GreenMail jar pinned by ``pom`` into ``libs_dir`` (idempotent)."""
    find_java()
    return install_jars(
        pom, libs_dir, marker=_JAR, what=f"GreenMail {GREENMAIL_VERSION}", progress=progress
    )


@dataclass(frozen=True)
class MailServer:
    """Where a running mail server listens (what tests and services are given)."""

    host: str
    smtp_port: int
    imap_port: int
    api_port: int
    # Implicit TLS ports (SMTPS, IMAPS) when the server was started with a certificate; 0: none.
    smtps_port: int = 0
    imaps_port: int = 0

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"


class LocalGreenMail(PidFileProcess):
    """One GreenMail JVM on loopback whose pid and log live in ``home``."""

    _display_name = "GreenMail"
    _stop_grace = 10.0

    def __init__(
        self,
        home: Path,
        *,
        smtp_port: int = 3025,
        imap_port: int = 3143,
        api_port: int = 3080,
        users: Sequence[str] = (f"support:{SUPPORT_PASSWORD}@helpdesk.local",),
        libs: Path,
        # GreenMail keeps every mail in memory, a message several times over while it takes it
        # in: 128m ran out on one mail with a 21 MB file (providers take 25 MB). The JVM takes
        # only what it uses.
        heap: str = "512m",
        progress: Progress = no_progress,
        tls: TlsFiles | None = None,
        smtps_port: int = 0,
        imaps_port: int = 0,
    ) -> None:
        ports = {smtp_port, imap_port, api_port}
        if len(ports) != 3:
            raise DevstackError(
                f"GreenMail needs three different ports, got {smtp_port}/{imap_port}/{api_port}",
                "set HELPDESK_SMTP_PORT, HELPDESK_IMAP_PORT and HELPDESK_GREENMAIL_API_PORT apart",
            )
        self.home = Path(home).resolve()
        if tls is not None and not (smtps_port and imaps_port):
            raise DevstackError("a TLS GreenMail needs its SMTPS and IMAPS ports")
        self.tls = tls
        self.server = MailServer(
            "127.0.0.1", smtp_port, imap_port, api_port,
            smtps_port if tls else 0, imaps_port if tls else 0,
        )  # fmt: skip
        self.users = list(users)
        self.libs = libs
        self.heap = heap
        super().__init__(progress)

    @property
    def log_path(self) -> Path:
        return self.home / "greenmail.log"

    @property
    def pid_path(self) -> Path:
        return self.home / "greenmail.pid"

    def argv(self, java: str) -> list[str]:
        server = self.server
        properties = {
            "greenmail.hostname": server.host,
            "greenmail.smtp.port": str(server.smtp_port),
            "greenmail.imap.port": str(server.imap_port),
            # Without these two the REST API binds 0.0.0.0:8080, the API gateway's port.
            "greenmail.api.hostname": server.host,
            "greenmail.api.port": str(server.api_port),
            "greenmail.users": ",".join(self.users),
            "greenmail.users.login": "email",
            # Any mailbox readable with any password: customers' inboxes need no setup.
            "greenmail.auth.disabled": "",
            # Not greenmail.verbose: it logs passwords.
            # A loaded machine needs more than the default 2 s to open a TLS server socket.
            "greenmail.startup.timeout": "60000",
        }
        if self.tls is not None:
            properties |= {
                "greenmail.smtps.port": str(server.smtps_port),
                "greenmail.imaps.port": str(server.imaps_port),
                "greenmail.tls.keystore.file": str(self.tls.keystore),
                "greenmail.tls.keystore.password": self.tls.password,
            }
        flags = [f"-D{key}={value}" if value else f"-D{key}" for key, value in properties.items()]
        return [
            java,
            f"-Xmx{self.heap}",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            *flags,
            "-jar",
            str(self.libs / _JAR),
        ]

    def start(self, timeout: float = 180.0) -> float:
        """Start the server and wait until SMTP, IMAP and the API answer; seconds taken."""
        if self.is_running():
            return 0.0
        began = time.monotonic()
        java = find_java()
        if not greenmail_installed(self.libs):
            raise DevstackError(
                f"GreenMail jar not found in {self.libs}",
                "run `make setup` or `python -m helpdesk_devstack install` (needs Maven)",
            )
        ensure_port_free(self.server.smtp_port, "GreenMail SMTP", "HELPDESK_SMTP_PORT")
        ensure_port_free(self.server.imap_port, "GreenMail IMAP", "HELPDESK_IMAP_PORT")
        ensure_port_free(self.server.api_port, "GreenMail API", "HELPDESK_GREENMAIL_API_PORT")
        self.home.mkdir(parents=True, exist_ok=True)
        argv = self.argv(java)
        with self.log_path.open("a") as log:
            log.write(f"\n===== starting GreenMail {GREENMAIL_VERSION} at {time.ctime()} =====\n")
        self._spawn(argv, self.log_path, cwd=self.home)
        try:
            self._wait_ready(began + timeout)
        except BaseException:
            self.kill()
            raise
        return time.monotonic() - began

    def _wait_ready(self, deadline: float) -> None:
        server = self.server
        while True:
            if not self.is_running():
                raise DevstackError(
                    "GreenMail exited during start",
                    "read the log below",
                    indent_tail(self.log_path),
                )
            ports = (server.smtp_port, server.imap_port, server.smtps_port, server.imaps_port)
            if all(port_in_use(port) for port in ports if port):
                try:
                    answer = httpx.get(f"{server.api_url}/api/service/readiness", timeout=2.0)
                    if answer.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise DevstackError(
                    f"GreenMail was not ready on {server.host}:{server.smtp_port}/"
                    f"{server.imap_port} in time",
                    "read the log below",
                    indent_tail(self.log_path),
                )
            time.sleep(0.1)

    def __repr__(self) -> str:
        s = self.server
        return f"LocalGreenMail(smtp {s.smtp_port}, imap {s.imap_port}, api {s.api_port})"
