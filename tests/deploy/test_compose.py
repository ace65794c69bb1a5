"""docker-compose.yml: valid against the compose spec, topics as topics.py specifies them,
start order, and each service's environment, ports and volumes as its settings read them.

Shared loading and parsing helpers: :mod:`tests.deploy.manifests`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpdesk_events.topics import TICKETS, TopicSpec, all_topics
from ticket_service.settings import Settings

from .manifests import (
    COMPOSE_FILE,
    COMPOSE_TICKET_SERVICES,
    DOCKERFILE,
    HTTP_PORT,
    NOTIFICATION,
    NOTIFICATION_HTTP_PORT,
    POSTGRES_MAJOR,
    REPO,
    SLA,
    SLA_HTTP_PORT,
    ImageRef,
    assert_cli_command,
    assert_sla_cli_command,
    check_compose_schema,
    compose,
    compose_env,
    compose_named_volume,
    compose_services,
    compose_topics,
    depends_on,
    dockerfile_env,
    final_stage,
    image_of,
    interpolate,
    kafka_init_script,
    notification_env_names,
    notification_settings_from,
    pom_kafka_version,
    published_ports,
    settings_field,
    settings_from,
    sla_env_names,
    sla_image,
    sla_settings_from,
    ticket_image,
)


def test_compose_file_validates_against_the_compose_spec() -> None:
    result = check_compose_schema(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(
            lambda c: c["services"]["ticket-service"]["depends_on"]["ticket-migrate"].update(
                condition="service_finished"
            ),
            id="unknown-depends-on-condition",
        ),
        pytest.param(
            lambda c: c["services"]["postgres"]["healthcheck"].update(intervall="5s"),
            id="misspelt-healthcheck-key",
        ),
    ],
)
def test_compose_spec_validation_rejects_a_broken_file(tmp_path: Path, break_it: Any) -> None:
    broken = compose()
    break_it(broken)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    assert check_compose_schema(path).returncode != 0


@pytest.mark.parametrize("ticket_partitions", [None, "9"])
def test_compose_creates_every_topic_as_topics_py_specifies(
    monkeypatch: pytest.MonkeyPatch, ticket_partitions: str | None
) -> None:
    # HELPDESK_TOPIC_PARTITIONS changes the ticket-keyed topics in topics.py and in compose alike.
    if ticket_partitions is None:
        monkeypatch.delenv("HELPDESK_TOPIC_PARTITIONS", raising=False)
    else:
        monkeypatch.setenv("HELPDESK_TOPIC_PARTITIONS", ticket_partitions)
    expected: dict[str, TopicSpec] = {spec.name: spec for spec in all_topics()}
    created = compose_topics(dict(os.environ))
    assert set(created) == set(expected)
    for name, spec in expected.items():
        assert created[name].partitions == spec.partitions, name
        assert created[name].config == spec.config(), name
        assert created[name].replication_factor == 1, "one broker in compose"


def test_compose_kafka_init_script_is_valid_bash() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    result = subprocess.run(
        [bash, "-n", "-c", kafka_init_script({})], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


def test_compose_kafka_is_the_version_the_project_pins() -> None:
    images = {
        ImageRef.parse(s["image"]) for s in compose_services().values() if "kafka" in s["image"]
    }
    assert images, "no Kafka image in docker-compose.yml"
    for image in images:
        assert image.name == "apache/kafka"
        assert image.tag == pom_kafka_version(), (
            f"compose runs {image.tag}, pom.xml pins {pom_kafka_version()}"
        )


def test_compose_postgres_is_postgresql_15() -> None:
    image = ImageRef.parse(compose_services()["postgres"]["image"])
    assert image.name == "postgres"
    assert image.tag and image.tag.split(".")[0].split("-")[0] == str(POSTGRES_MAJOR)


def test_compose_starts_things_in_the_right_order() -> None:
    services = compose_services()
    edges = {
        (name, dep, cond) for name, svc in services.items() for dep, cond in depends_on(svc).items()
    }
    required = {
        ("kafka-init", "kafka", "service_healthy"),
        ("ticket-migrate", "postgres", "service_healthy"),
        ("ticket-service", "ticket-migrate", "service_completed_successfully"),
        ("ticket-relay", "ticket-migrate", "service_completed_successfully"),
        ("ticket-relay", "kafka-init", "service_completed_successfully"),
        ("ticket-service", "ticket-blobs-init", "service_completed_successfully"),
        ("ticket-sla-projector", "ticket-migrate", "service_completed_successfully"),
        ("ticket-sla-projector", "kafka-init", "service_completed_successfully"),
        ("sla-service", "kafka-init", "service_completed_successfully"),
    }
    assert required <= edges, f"missing: {required - edges}"
    for name, dep, condition in edges:
        target = services[dep]
        if condition == "service_healthy":
            check = target.get("healthcheck", {})
            assert check.get("test") and not check.get("disable"), (
                f"{name} waits for {dep}'s health"
            )
        if condition == "service_completed_successfully":
            assert target.get("restart", "no") == "no", f"{dep} is a one-shot; it must not restart"


def test_compose_runs_each_ticket_service_command() -> None:
    services = compose_services()
    for name, command in COMPOSE_TICKET_SERVICES.items():
        assert services[name]["image"] == ticket_image(), name
        assert services[name]["command"] == [command], name
        assert_cli_command(command)
    sla = services["sla-service"]
    assert sla["image"] == sla_image()
    assert sla["command"] == ["worker"]
    assert_sla_cli_command(sla["command"][0])
    built = [s for s in services.values() if "build" in s]
    assert len(built) >= len(COMPOSE_TICKET_SERVICES) + 1
    for service in built:
        # Each image is its own stage of the one Dockerfile, built for its own package,
        # whichever service names it.
        image = image_of(service["image"])
        build = service["build"]
        assert build.get("dockerfile", "Dockerfile") == DOCKERFILE.relative_to(REPO).as_posix()
        assert (REPO / build["context"]).resolve() == REPO
        assert build["target"] == image.name
        assert build["args"] == {"SERVICE": image.name}


def test_compose_environment_is_what_the_service_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose_services()
    for name in COMPOSE_TICKET_SERVICES:
        env = compose_env(services[name])
        for key in env:
            assert settings_field(key), f"{name}: {key} is not a setting of the ticket service"
        settings = settings_from(monkeypatch, env)
        # The addresses must be ones the other containers answer on.
        kafka_env = compose_env(services["kafka"])
        advertised = [
            listener.split("://", 1)[1]
            for listener in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
        ]
        assert settings.kafka_bootstrap in advertised, name
        pg_env = compose_env(services["postgres"])
        expected_url = (
            f"postgresql://{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}"
            f"@postgres:5432/{pg_env['POSTGRES_DB']}"
        )
        assert settings.database_url == expected_url, name


def test_compose_kafka_init_talks_to_the_internal_listener() -> None:
    kafka_env = compose_env(compose_services()["kafka"])
    advertised = [
        listener.split("://", 1)[1]
        for listener in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    ]
    servers = re.findall(r"--bootstrap-server\s+(\S+)", kafka_init_script({}))
    assert servers
    assert set(servers) <= set(advertised)
    # Host clients (the local tools, tests) use localhost:9092, as with the local stack.
    assert "localhost:9092" in advertised
    assert ["9092", "9092"] in published_ports(compose_services()["kafka"])
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


@pytest.mark.parametrize("ticket_partitions", [None, "9"])
def test_compose_sla_service_settings(
    monkeypatch: pytest.MonkeyPatch, ticket_partitions: str | None
) -> None:
    host_env = {} if ticket_partitions is None else {"HELPDESK_TOPIC_PARTITIONS": ticket_partitions}
    service = compose_services()["sla-service"]
    env = {k: interpolate(v, host_env) for k, v in compose_env(service).items()}
    for key in env:
        assert key.upper() in sla_env_names(), f"sla-service: {key} is not an SLA setting"
    settings = sla_settings_from(monkeypatch, {**dockerfile_env(SLA), **env})
    assert settings.http_host == "0.0.0.0"
    assert settings.http_port == SLA_HTTP_PORT
    assert [str(SLA_HTTP_PORT), str(SLA_HTTP_PORT)] in published_ports(service)
    kafka_env = compose_env(compose_services()["kafka"])
    advertised = [
        listener.split("://", 1)[1]
        for listener in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    ]
    assert settings.kafka_bootstrap in advertised
    # The worker's topics and table are co-partitioned with the tickets topic kafka-init creates.
    assert settings.topic_partitions == compose_topics(host_env)[TICKETS].partitions
    # Faust's data directory is on a volume, not in the container's writable layer.
    compose_named_volume(service, str(settings.data_dir))
    check = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{SLA_HTTP_PORT}/readyz" in check, "healthy means ready"


def test_compose_ticket_attachments_are_on_a_volume_the_service_can_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = compose_services()
    service = services["ticket-service"]
    settings = settings_from(monkeypatch, {**dockerfile_env(), **compose_env(service)})
    blob_dir = settings.blob_dir
    assert blob_dir.is_absolute(), "the default (.local/blobs under /app) is not writable"
    volume = compose_named_volume(service, str(blob_dir))
    # A new named volume is root's: a one-shot hands it to the image's user before the API starts.
    user = [i.value for i in final_stage() if i.keyword == "USER"][-1]
    init = services["ticket-blobs-init"]
    assert compose_named_volume(init, str(blob_dir)) == volume
    assert init["entrypoint"] == ["chown", user, str(blob_dir)]
    assert init["user"] in ("0", "0:0", "root")
    assert init.get("restart", "no") == "no"
    assert depends_on(service)["ticket-blobs-init"] == "service_completed_successfully"


def test_compose_http_port_and_jwt_key(monkeypatch: pytest.MonkeyPatch) -> None:
    service = compose_services()["ticket-service"]
    settings = settings_from(monkeypatch, {**dockerfile_env(), **compose_env(service)})
    assert settings.http_port == HTTP_PORT
    assert settings.http_host == "0.0.0.0"
    assert [str(HTTP_PORT), str(HTTP_PORT)] in published_ports(service)
    # The dev key that `make token` signs with, where the service's settings default looks for it.
    default_key = Settings.model_fields["jwt_public_key_file"].default
    mounts = [v for v in service["volumes"] if isinstance(v, dict) and v.get("type") == "bind"]
    key_mounts = [m for m in mounts if m["target"] == str(settings.jwt_public_key_file)]
    assert len(key_mounts) == 1, "the JWT public key must be mounted where the service reads it"
    mount = key_mounts[0]
    assert Path(mount["source"]) == Path(default_key)
    assert mount.get("read_only") is True
    assert mount.get("bind", {}).get("create_host_path") is False


def test_compose_notification_service_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose_services()
    for name in ("notification-service", "notification-migrate"):
        env = {k: interpolate(v, {}) for k, v in compose_env(services[name]).items()}
        for key in env:
            assert key.upper() in notification_env_names(), f"{name}: {key} is not a setting"
        settings = notification_settings_from(monkeypatch, {**dockerfile_env(NOTIFICATION), **env})
        assert settings.database_schema == "notifications"
        ticket_url = compose_env(services["ticket-service"])["HELPDESK_DATABASE_URL"]
        assert settings.database_url == ticket_url, "the helpdesk database, its own schema"
    service = services["notification-service"]
    assert depends_on(service)["notification-migrate"] == "service_completed_successfully"
    assert [str(NOTIFICATION_HTTP_PORT), str(NOTIFICATION_HTTP_PORT)] in published_ports(service)
