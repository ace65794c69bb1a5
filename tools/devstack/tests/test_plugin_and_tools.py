"""The pytest fixtures, the dev tokens, stack.toml and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import jwt
import pytest

from helpdesk_devstack.cli import main
from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.kafka import install, libs_installed
from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.stack import load_stack_file
from helpdesk_devstack.tokens import AUDIENCE, ISSUER, ensure_dev_keys, mint_token

# --- tokens -------------------------------------------------------------------------------------


def test_mint_token_round_trips_through_pyjwt(dev_keys: tuple[Path, Path]) -> None:
    private_path, public_path = dev_keys
    token = mint_token(private_path.read_bytes(), "agent", "agent-42", timedelta(hours=1), "Ada")
    claims = jwt.decode(
        token,
        public_path.read_bytes(),
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["sub", "role", "iat", "exp"]},
    )
    assert claims["sub"] == "agent-42"
    assert claims["role"] == "agent"
    assert claims["name"] == "Ada"
    assert (claims["iss"], claims["aud"]) == ("helpdesk-local", "helpdesk")
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_an_expired_or_foreign_token_is_rejected(
    dev_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private_path, public_path = dev_keys
    old = mint_token(
        private_path.read_bytes(),
        "customer",
        "c-1",
        timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(old, public_path.read_bytes(), algorithms=["RS256"], audience=AUDIENCE)

    other_private, _ = ensure_dev_keys(tmp_path / "other")
    foreign = mint_token(other_private.read_bytes(), "manager", "m-1", timedelta(hours=1))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(foreign, public_path.read_bytes(), algorithms=["RS256"], audience=AUDIENCE)


def test_mint_token_refuses_unknown_roles(dev_keys: tuple[Path, Path]) -> None:
    with pytest.raises(DevstackError, match="unknown role 'admin'"):
        mint_token(dev_keys[0].read_bytes(), "admin", "x", timedelta(hours=1))


def test_ensure_dev_keys_keeps_an_existing_pair(tmp_path: Path) -> None:
    private_path, public_path = ensure_dev_keys(tmp_path)
    before = private_path.read_bytes(), public_path.read_bytes()
    assert ensure_dev_keys(tmp_path) == (private_path, public_path)
    assert (private_path.read_bytes(), public_path.read_bytes()) == before
    assert private_path.stat().st_mode & 0o077 == 0  # the private key is the owner's only


def test_tokens_verify_with_the_services_verifier(dev_keys: tuple[Path, Path]) -> None:
    auth = pytest.importorskip("helpdesk_platform.auth")
    token = mint_token(dev_keys[0].read_bytes(), "technician", "t-7", timedelta(hours=1))
    principal = auth.TokenVerifier(dev_keys[1].read_bytes()).verify(f"Bearer {token}")
    assert (principal.subject, principal.role) == ("t-7", auth.Role.TECHNICIAN)


def test_cli_token_prints_only_a_verifiable_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "manager"]) == 0
    token = capsys.readouterr().out.strip()
    public = (StackPaths.discover().jwt / "public.pem").read_bytes()
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)
    assert (claims["sub"], claims["role"]) == ("dev-manager", "manager")


def test_cli_customer_token_carries_an_email(capsys: pytest.CaptureFixture[str]) -> None:
    """A customer opens tickets as the contact with the token's email: without one, 422."""
    assert main(["token", "--role", "customer"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["email"] == "dev-customer@example.com"
    assert main(["token", "--role", "customer", "--email", "budi@example.co.id"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["email"] == "budi@example.co.id"


# --- fixtures of the plugin ---------------------------------------------------------------------


@pytest.mark.integration
async def test_make_database_gives_each_caller_a_fresh_database(
    make_database: object, postgres_server_dsn: str
) -> None:
    assert callable(make_database)
    first, second = make_database("Tickets Test"), make_database("tickets-test")
    assert first != second
    assert first.rsplit("/", 1)[1].startswith("tickets_test_")
    connection = await asyncpg.connect(first)
    try:
        await connection.execute("CREATE TABLE t (id int)")
        assert await connection.fetchval("SELECT count(*) FROM t") == 0
    finally:
        await connection.close()
    server = await asyncpg.connect(postgres_server_dsn)
    try:
        names = {r["datname"] for r in await server.fetch("SELECT datname FROM pg_database")}
    finally:
        await server.close()
    assert {first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]} <= names


@pytest.mark.integration
async def test_kafka_bootstrap_fixture_has_every_topic(kafka_bootstrap: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    from helpdesk_events.topics import all_topics

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    assert {spec.name for spec in all_topics()} <= existing


# --- install and stack.toml ---------------------------------------------------------------------


def test_install_is_idempotent() -> None:
    paths = StackPaths.discover()
    try:
        install(paths.pom, paths.kafka_libs)
    except DevstackError as error:
        pytest.skip(f"cannot install the Kafka jars here: {error}")
    assert libs_installed(paths.kafka_libs, paths.pom)
    assert install(paths.pom, paths.kafka_libs) is False  # second run: nothing to do
    assert any(paths.kafka_libs.glob("kafka_2.13-4.3.1.jar"))
    assert any(paths.kafka_libs.glob("log4j-core-*.jar"))


def test_the_repository_stack_file_declares_the_ticket_service() -> None:
    specs = {spec.name: spec for spec in load_stack_file(StackPaths.discover().stack_file)}
    assert specs["ticket-service"].command == ["{python}", "-m", "ticket_service", "serve"]
    assert specs["ticket-service"].pre == [["{python}", "-m", "ticket_service", "migrate"]]
    assert specs["ticket-service"].health == "http://127.0.0.1:8001/readyz"
    assert specs["ticket-relay"].command == ["{python}", "-m", "ticket_service", "relay"]
    assert specs["ticket-relay"].health is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[process]]\nname = "x"\n', "command must be a non-empty list"),
        ('[[process]]\nname = "kafka"\ncommand = ["a"]\n', "name must match"),
        ('[[process]]\nname = "x"\ncommand = ["a"]\nhealth = 3\n', "health must be"),
        ('[[process]]\nname = "x"\ncommand = ["a"]\ncmd = 1\n', "unknown keys"),
        (
            '[[process]]\nname = "x"\ncommand = ["a"]\n[[process]]\nname = "x"\ncommand = ["b"]\n',
            "duplicate name",
        ),
        ("[[process]\n", "not valid TOML"),
    ],
)
def test_a_broken_stack_file_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "stack.toml"
    path.write_text(text)
    with pytest.raises(DevstackError, match=message):
        load_stack_file(path)
