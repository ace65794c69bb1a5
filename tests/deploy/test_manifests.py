"""Offline checks of the container deployment: docker-compose.yml, deploy/k8s and the Dockerfile.

Neither Docker nor Kubernetes runs here, so these tests check what can be checked without them:

- the compose file against the compose-spec JSON Schema (vendored in check-jsonschema);
- the Kubernetes built-in kinds against the Kubernetes OpenAPI schemas (bundled in
  kubernetes-validate, strict: unknown fields are errors), for the oldest Kubernetes the manifests
  support and the newest the package knows;
- the Strimzi and CloudNativePG custom resources by structural checks of their own;
- everything against the code it deploys: the topics of ``helpdesk_events.topics.all_topics()``
  and the SLA worker's own Faust topics, the environment ``ticket_service.settings.Settings`` and
  ``sla_service.settings.SlaSettings`` read, each CLI's commands, ports 8001 and 8002, the images'
  user, the Kafka version pinned in tools/devstack/kafka/pom.xml, the uv version pinned in the
  Makefile;
- that every process of the local stack (tools/devstack/stack.toml) runs in compose and on
  Kubernetes too, with the same command, image and health check.

Both validators get a deliberately broken document too, so a validator that accepts anything
would fail the suite.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices

from api_gateway.domain.routes import RoutingTable
from api_gateway.entrypoints.cli import main as api_gateway_cli
from api_gateway.settings import ROUTES_FILE
from api_gateway.settings import Settings as GatewaySettings
from assignment_service.__main__ import main as assignment_service_cli
from assignment_service.entrypoints.worker import create_worker as create_assignment_worker
from assignment_service.settings import AssignmentSettings
from helpdesk_events.topics import TICKETS, TopicSpec, all_topics
from helpdesk_platform.kafka_topics import COMPACTED
from mail_gateway.__main__ import main as mail_gateway_cli
from mail_gateway.settings import Settings as MailSettings
from notification_service.__main__ import main as notification_service_cli
from notification_service.settings import Settings as NotificationSettings
from sla_service.__main__ import main as sla_service_cli
from sla_service.entrypoints.worker import create_worker
from sla_service.settings import SlaSettings
from ticket_service.entrypoints.cli import main as ticket_service_cli
from ticket_service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
K8S_DIR = REPO / "deploy" / "k8s"
DEPLOY_README = REPO / "deploy" / "README.md"
DOCKERFILE = REPO / "services" / "ticket-service" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
KAFKA_POM = REPO / "tools" / "devstack" / "kafka" / "pom.xml"
MAKEFILE = REPO / "Makefile"
ROOT_PYPROJECT = REPO / "pyproject.toml"
SERVICE_PYPROJECT = REPO / "services" / "ticket-service" / "pyproject.toml"
SLA_DOCKERFILE = REPO / "services" / "sla-service" / "Dockerfile"
SLA_PYPROJECT = REPO / "services" / "sla-service" / "pyproject.toml"
ASSIGNMENT_DOCKERFILE = REPO / "services" / "assignment-service" / "Dockerfile"
ASSIGNMENT_PYPROJECT = REPO / "services" / "assignment-service" / "pyproject.toml"
MAIL_DOCKERFILE = REPO / "services" / "mail-gateway" / "Dockerfile"
MAIL_PYPROJECT = REPO / "services" / "mail-gateway" / "pyproject.toml"
STACK_TOML = REPO / "tools" / "devstack" / "stack.toml"
NOTIFICATION_DOCKERFILE = REPO / "services" / "notification-service" / "Dockerfile"
NOTIFICATION_PYPROJECT = REPO / "services" / "notification-service" / "pyproject.toml"

GATEWAY_DOCKERFILE = REPO / "services" / "api-gateway" / "Dockerfile"
GATEWAY_PYPROJECT = REPO / "services" / "api-gateway" / "pyproject.toml"
GATEWAY_HTTP_PORT = 8080

#: The ticket service's HTTP port (DESIGN.md §5, ``Settings.http_port``).
HTTP_PORT = 8001
#: The SLA service's HTTP port (DESIGN.md §5, ``SlaSettings.http_port``).
SLA_HTTP_PORT = 8002
#: The assignment service's HTTP port (DESIGN.md §5, ``AssignmentSettings.http_port``).
ASSIGNMENT_HTTP_PORT = 8003
#: The notification service's HTTP port (DESIGN.md §5, its ``Settings.http_port``).
NOTIFICATION_HTTP_PORT = 8005
#: The mail gateway's HTTP port (DESIGN.md §5, ``mail_gateway.settings.Settings.http_port``).
MAIL_HTTP_PORT = 8004
#: PostgreSQL major version everywhere (DESIGN.md §5).
POSTGRES_MAJOR = 15
#: Partitions of the ticket-keyed topics on Kubernetes (production); topics.py's default is local.
PRODUCTION_TICKET_PARTITIONS = 12
#: Kubernetes versions to validate against: the oldest Strimzi 1.x supports, the newest bundled.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
#: Custom resources, checked structurally below instead of by kubernetes-validate.
CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1", "Kafka"),
    ("kafka.strimzi.io/v1", "KafkaNodePool"),
    ("kafka.strimzi.io/v1", "KafkaTopic"),
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}
#: The workloads that run the ticket service image, and the CLI command each runs.
TICKET_WORKLOADS = {
    ("Deployment", "ticket-service"): "serve",
    ("Deployment", "ticket-relay"): "relay",
    ("Job", "ticket-service-migrate"): "migrate",
    ("Deployment", "ticket-sla-projector"): "sla-projector",
    ("Deployment", "ticket-commands"): "commands",
}
COMPOSE_TICKET_SERVICES = {
    "ticket-service": "serve",
    "ticket-relay": "relay",
    "ticket-migrate": "migrate",
    "ticket-sla-projector": "sla-projector",
    "ticket-commands": "commands",
}
#: Commands that talk to Kafka, so need HELPDESK_KAFKA_BOOTSTRAP.
KAFKA_COMMANDS = {"serve", "relay", "sla-projector", "commands"}
CLUSTER_SCOPED_KINDS = {"Namespace"}
PULL_POLICIES = {"Always", "IfNotPresent", "Never"}


# --- loading -------------------------------------------------------------------------------


class StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate mapping keys, which PyYAML would silently resolve to
    the last value while kubectl and Docker Compose reject the file."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            keys.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader)


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    docs = [doc for doc in yaml.load_all(text, Loader=StrictLoader) if doc is not None]
    for doc in docs:
        assert isinstance(doc, dict), f"{path}: every YAML document must be a mapping"
    return docs


def compose() -> dict[str, Any]:
    data = load_yaml(COMPOSE_FILE)
    assert isinstance(data, dict)
    return data


def compose_services() -> dict[str, dict[str, Any]]:
    services = compose()["services"]
    assert isinstance(services, dict)
    return services


def kustomization() -> dict[str, Any]:
    data = load_yaml(K8S_DIR / "kustomization.yaml")
    assert isinstance(data, dict)
    return data


def kustomize_resource_paths() -> list[Path]:
    return [K8S_DIR / entry for entry in kustomization()["resources"]]


def k8s_documents() -> list[dict[str, Any]]:
    """What ``kustomize build deploy/k8s`` produces, for the fields kustomization.yaml uses
    (resources and namespace; ``test_kustomization_uses_only_supported_fields`` keeps it so)."""
    namespace = kustomization().get("namespace")
    docs: list[dict[str, Any]] = []
    for path in kustomize_resource_paths():
        for doc in load_yaml_documents(path):
            doc = copy.deepcopy(doc)
            if namespace and doc.get("kind") not in CLUSTER_SCOPED_KINDS:
                doc.setdefault("metadata", {})["namespace"] = namespace
            docs.append(doc)
    return docs


def docs_of(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in k8s_documents() if doc["kind"] == kind]


def one_doc(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs_of(kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]["template"]["spec"]
    assert isinstance(spec, dict)
    return spec


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert isinstance(labels, dict)
    return labels


def all_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads() -> list[dict[str, Any]]:
    return [doc for doc in k8s_documents() if doc["kind"] in ("Deployment", "StatefulSet", "Job")]


def pom_kafka_version() -> str:
    root = ET.parse(KAFKA_POM).getroot()
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = root.findtext("m:properties/m:kafka.version", namespaces=namespace)
    assert version, f"{KAFKA_POM} has no <kafka.version> property"
    return version.strip()


def service_version() -> str:
    version = tomllib.loads(SERVICE_PYPROJECT.read_text())["project"]["version"]
    assert isinstance(version, str)
    return version


def ticket_image() -> str:
    """The image reference the deployment uses for the ticket service: its package version."""
    return f"helpdesk/ticket-service:{service_version()}"


def sla_image() -> str:
    """The image reference the deployment uses for the SLA service: its package version."""
    version = tomllib.loads(SLA_PYPROJECT.read_text())["project"]["version"]
    assert isinstance(version, str)
    return f"helpdesk/sla-service:{version}"


def assignment_image() -> str:
    """The image reference the deployment uses for the assignment service: its package version."""
    version = tomllib.loads(ASSIGNMENT_PYPROJECT.read_text())["project"]["version"]
    assert isinstance(version, str)
    return f"helpdesk/assignment-service:{version}"


def notification_image() -> str:
    """The image reference the deployment uses for the notification service."""
    version = tomllib.loads(NOTIFICATION_PYPROJECT.read_text())["project"]["version"]
    assert isinstance(version, str)
    return f"helpdesk/notification-service:{version}"


def gateway_image() -> str:
    """The image reference the deployment uses for the API gateway: its package version."""
    version = tomllib.loads(GATEWAY_PYPROJECT.read_text())["project"]["version"]
    assert isinstance(version, str)
    return f"helpdesk/api-gateway:{version}"


def gateway_env_names() -> set[str]:
    """Every environment variable the gateway's Settings read (upper case)."""
    return settings_env_names(GatewaySettings)


def assert_gateway_cli_command(command: str) -> None:
    """``command`` is a subcommand of ``python -m api_gateway`` (its --help exits 0)."""
    with pytest.raises(SystemExit) as exit_info:
        api_gateway_cli([command, "--help"])
    assert exit_info.value.code == 0, f"`api-gateway {command}` is not a command of the CLI"


def mail_image() -> str:
    """The image reference the deployment uses for the mail gateway: its package version."""
    version = tomllib.loads(MAIL_PYPROJECT.read_text())["project"]["version"]
    assert isinstance(version, str)
    return f"helpdesk/mail-gateway:{version}"


@dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, ref: str) -> ImageRef:
        name, _, digest = ref.partition("@")
        last = name.rsplit("/", 1)[-1]
        tag = None
        if ":" in last:
            name, tag = name.rsplit(":", 1)
        return cls(name, tag, digest or None)


def settings_field(env_name: str) -> str | None:
    """The Settings field an environment variable sets, or None when it sets none."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    if not env_name.startswith(prefix):
        return None
    field = env_name[len(prefix) :].lower()
    return field if field in Settings.model_fields else None


def settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """Settings as the service would build them from exactly ``env`` (nothing from this shell)."""
    for name in list(os.environ):
        if name.startswith("HELPDESK_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def assert_cli_command(command: str) -> None:
    """``command`` is a subcommand of ``python -m ticket_service`` (its --help exits 0)."""
    with pytest.raises(SystemExit) as exit_info:
        ticket_service_cli([command, "--help"])
    assert exit_info.value.code == 0, f"`ticket-service {command}` is not a command of the CLI"


def sla_env_names() -> set[str]:
    """Every environment variable ``SlaSettings`` reads (upper case): its aliases where a field
    has them, else the prefix and the field name."""
    return settings_env_names(SlaSettings)


def assignment_env_names() -> set[str]:
    """Every environment variable ``AssignmentSettings`` reads (upper case)."""
    return settings_env_names(AssignmentSettings)


def notification_env_names() -> set[str]:
    """Every environment variable the notification service's ``Settings`` reads (upper case)."""
    return settings_env_names(NotificationSettings)


def notification_settings_from(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> NotificationSettings:
    """The notification service's Settings as it would build them from exactly ``env``."""
    settings_from(monkeypatch, env)  # leaves exactly ``env`` in the environment
    return NotificationSettings()


def assert_notification_cli_command(command: str) -> None:
    """``command`` is a subcommand of ``python -m notification_service`` (--help exits 0)."""
    with pytest.raises(SystemExit) as exit_info:
        notification_service_cli([command, "--help"])
    assert exit_info.value.code == 0, f"`notification_service {command}` is not a command"


def settings_env_names(
    settings_class: type[SlaSettings]
    | type[AssignmentSettings]
    | type[NotificationSettings]
    | type[MailSettings],
) -> set[str]:
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def sla_settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> SlaSettings:
    """SlaSettings as the worker would build them from exactly ``env``."""
    for name in list(os.environ):
        if name.startswith("HELPDESK_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return SlaSettings()


def assignment_settings_from(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> AssignmentSettings:
    """AssignmentSettings as the worker would build them from exactly ``env``."""
    for name in list(os.environ):
        if name.startswith("HELPDESK_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return AssignmentSettings()


class _WorkerReached(Exception):
    pass


def sla_cli_accepts(command: list[str]) -> bool:
    """Whether ``python -m sla_service <command>`` goes on to build the worker (stopped right
    there: nothing connects to Kafka) instead of printing its usage and exiting 2."""

    def stop(*args: Any, **kwargs: Any) -> Any:
        raise _WorkerReached

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sla_service.bootstrap.build_worker", stop)
        patch.setattr("helpdesk_platform.kafka_topics.ensure_topics", stop)  # first Kafka call
        patch.setattr("helpdesk_platform.telemetry.setup_logging", lambda *a, **k: None)
        try:
            code = sla_service_cli(command)
        except _WorkerReached:
            return True
    assert code == 2, f"sla_service {command}: exit {code}"
    return False


def assert_sla_cli_command(command: str) -> None:
    assert sla_cli_accepts([command]), f"`sla_service {command}` is not a command of the CLI"


def assignment_cli_accepts(command: list[str]) -> bool:
    """Like :func:`sla_cli_accepts`, for ``python -m assignment_service``."""

    def stop(*args: Any, **kwargs: Any) -> Any:
        raise _WorkerReached

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("assignment_service.entrypoints.worker.create_worker", stop)
        patch.setattr("helpdesk_platform.kafka_topics.ensure_topics", stop)  # first Kafka call
        patch.setattr("helpdesk_platform.telemetry.setup_logging", lambda *a, **k: None)
        try:
            code = assignment_service_cli(command)
        except _WorkerReached:
            return True
    assert code == 2, f"assignment_service {command}: exit {code}"
    return False


def assert_assignment_cli_command(command: str) -> None:
    assert assignment_cli_accepts([command]), f"`assignment_service {command}` is not a command"


def mail_cli_accepts(command: list[str]) -> bool:
    """Like :func:`sla_cli_accepts`, for ``python -m mail_gateway`` (stopped before uvicorn)."""

    def stop(*args: Any, **kwargs: Any) -> Any:
        raise _WorkerReached

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("uvicorn.run", stop)
        patch.setattr("helpdesk_platform.telemetry.setup_logging", lambda *a, **k: None)
        try:
            code = mail_gateway_cli(command)
        except _WorkerReached:
            return True
    assert code == 2, f"mail_gateway {command}: exit {code}"
    return False


@dataclass(frozen=True)
class ServiceImage:
    """One of the project's images: how it is built and what it runs."""

    name: str
    dockerfile: Path
    pyproject: Path
    package: str
    module: str
    port: int
    host_env: str
    port_env: str
    default_command: str

    @property
    def image(self) -> str:
        if self.name == "notification-service":
            return notification_image()
        if self.name == "ticket-service":
            return ticket_image()
        if self.name == "api-gateway":
            return gateway_image()
        if self.name == "mail-gateway":
            return mail_image()
        return sla_image() if self.name == "sla-service" else assignment_image()

    def is_setting(self, env_name: str) -> bool:
        if self.name == "notification-service":
            return env_name.upper() in notification_env_names()
        if self.name == "ticket-service":
            return settings_field(env_name) is not None
        if self.name == "sla-service":
            return env_name.upper() in sla_env_names()
        if self.name == "api-gateway":
            return env_name.upper() in gateway_env_names()
        if self.name == "mail-gateway":
            return env_name.upper() in settings_env_names(MailSettings)
        return env_name.upper() in assignment_env_names()

    def assert_command(self, command: str) -> None:
        if self.name == "notification-service":
            assert_notification_cli_command(command)
        elif self.name == "ticket-service":
            assert_cli_command(command)
        elif self.name == "sla-service":
            assert_sla_cli_command(command)
        elif self.name == "api-gateway":
            assert_gateway_cli_command(command)
        elif self.name == "mail-gateway":
            assert mail_cli_accepts([command]), f"`mail_gateway {command}` is not a command"
        else:
            assert_assignment_cli_command(command)


TICKET = ServiceImage(
    "ticket-service",
    DOCKERFILE,
    SERVICE_PYPROJECT,
    "ticket-service",
    "ticket_service",
    HTTP_PORT,
    "HELPDESK_HTTP_HOST",
    "HELPDESK_HTTP_PORT",
    "serve",
)
SLA = ServiceImage(
    "sla-service",
    SLA_DOCKERFILE,
    SLA_PYPROJECT,
    "sla-service",
    "sla_service",
    SLA_HTTP_PORT,
    "HELPDESK_SLA_HTTP_HOST",
    "HELPDESK_SLA_HTTP_PORT",
    "worker",
)
ASSIGNMENT = ServiceImage(
    "assignment-service",
    ASSIGNMENT_DOCKERFILE,
    ASSIGNMENT_PYPROJECT,
    "assignment-service",
    "assignment_service",
    ASSIGNMENT_HTTP_PORT,
    "HELPDESK_ASSIGNMENT_HTTP_HOST",
    "HELPDESK_ASSIGNMENT_HTTP_PORT",
    "worker",
)
NOTIFICATION = ServiceImage(
    "notification-service",
    NOTIFICATION_DOCKERFILE,
    NOTIFICATION_PYPROJECT,
    "notification-service",
    "notification_service",
    NOTIFICATION_HTTP_PORT,
    "HELPDESK_HTTP_HOST",
    "HELPDESK_HTTP_PORT",
    "serve",
)
GATEWAY = ServiceImage(
    "api-gateway",
    GATEWAY_DOCKERFILE,
    GATEWAY_PYPROJECT,
    "api-gateway",
    "api_gateway",
    GATEWAY_HTTP_PORT,
    "HELPDESK_HTTP_HOST",
    "HELPDESK_HTTP_PORT",
    "serve",
)
MAIL = ServiceImage(
    "mail-gateway",
    MAIL_DOCKERFILE,
    MAIL_PYPROJECT,
    "mail-gateway",
    "mail_gateway",
    MAIL_HTTP_PORT,
    "HELPDESK_MAIL_HTTP_HOST",
    "HELPDESK_MAIL_HTTP_PORT",
    "serve",
)
IMAGES = (TICKET, SLA, ASSIGNMENT, NOTIFICATION, GATEWAY, MAIL)
BY_IMAGE = pytest.mark.parametrize("image", IMAGES, ids=lambda i: i.name)


def image_of(ref: str) -> ServiceImage:
    found = [image for image in IMAGES if image.image == ref]
    assert found, f"{ref} is none of the project's images"
    return found[0]


def test_sla_cli_check_rejects_what_the_worker_rejects() -> None:
    # The helper above must be able to say no, or the command checks prove nothing.
    assert sla_cli_accepts(["worker"])
    for wrong in (["serve"], ["worker", "--help"], []):
        assert not sla_cli_accepts(wrong)


def test_sla_env_names_follow_the_settings() -> None:
    names = sla_env_names()
    assert {
        "HELPDESK_KAFKA_BOOTSTRAP",
        "HELPDESK_TOPIC_PARTITIONS",
        "HELPDESK_SLA_DATA_DIR",
    } <= names
    assert "HELPDESK_SLA_HTTP_HOST" in names and "HELPDESK_HTTP_HOST" not in names


# --- Dockerfile ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    stage: int


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile: comments dropped, continuation lines joined."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, value = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, value.strip(), stage))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def dockerfile(path: Path = DOCKERFILE) -> list[Instruction]:
    return dockerfile_instructions(path.read_text(encoding="utf-8"))


def final_stage(path: Path = DOCKERFILE) -> list[Instruction]:
    instructions = dockerfile(path)
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def from_image(instruction: Instruction) -> str:
    words = [w for w in instruction.value.split() if not w.startswith("--")]
    return words[0]


def exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list)
    assert all(isinstance(item, str) for item in parsed)
    return parsed


def dockerfile_env(path: Path = DOCKERFILE) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in final_stage(path):
        if instruction.keyword == "ENV":
            for item in shlex.split(instruction.value):
                name, sep, value = item.partition("=")
                assert sep, f"use ENV NAME=value, not {instruction.value!r}"
                env[name] = value
    return env


def dockerignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def dockerignored(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out of the build context: it or
    one of its parent directories matches the last matching pattern, which is not a ``!``."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for pattern in dockerignore_patterns():
        negate = pattern.startswith("!")
        regex = _glob_regex(pattern.lstrip("!").strip("/"))
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def workspace_dependencies(pyproject: Path) -> set[Path]:
    """Directories of the workspace members ``pyproject`` depends on, transitively."""
    members: dict[str, Path] = {}
    for member in tomllib.loads(ROOT_PYPROJECT.read_text())["tool"]["uv"]["workspace"]["members"]:
        project = tomllib.loads((REPO / member / "pyproject.toml").read_text())["project"]
        members[project["name"]] = REPO / member
    found: set[Path] = set()
    todo = [pyproject]
    while todo:
        project = tomllib.loads(todo.pop().read_text())["project"]
        for requirement in project.get("dependencies", []):
            name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
            if name in members and members[name] not in found:
                found.add(members[name])
                todo.append(members[name] / "pyproject.toml")
    return found


def makefile_uv_version() -> str:
    match = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", MAKEFILE.read_text(), re.MULTILINE)
    assert match, "the Makefile pins no UV_VERSION"
    return match.group(1)


@BY_IMAGE
def test_dockerfile_builds_and_runs_on_the_same_python_image(image: ServiceImage) -> None:
    froms = [i for i in dockerfile(image.dockerfile) if i.keyword == "FROM"]
    images = {i.stage: from_image(i) for i in froms}
    stage_names = {i.value.split()[-1] for i in froms if " AS " in i.value.upper()}
    final = images[max(images)]
    assert final.startswith("python:3.11"), final
    # The venv built in the build stage links to that stage's interpreter: the runtime stage must
    # be the same base image, or /app/.venv/bin/python points nowhere.
    build_stages = [i for i in froms if i.value.split()[-1] == "build"]
    assert build_stages, f"no stage named build among {stage_names}"
    assert from_image(build_stages[0]) == final
    copies = [
        i
        for i in final_stage(image.dockerfile)
        if i.keyword == "COPY" and "--from=build" in i.value
    ]
    assert any("/app/.venv" in i.value for i in copies), "the runtime stage must copy the venv"


@BY_IMAGE
def test_dockerfile_installs_the_locked_service_without_dev_dependencies(
    image: ServiceImage,
) -> None:
    instructions = dockerfile(image.dockerfile)
    syncs = [i.value for i in instructions if i.keyword == "RUN" and "uv sync" in i.value]
    assert syncs, "the image must be built with uv sync"
    for sync in syncs:
        for flag in ("--frozen", "--no-dev", f"--package {image.package}"):
            assert flag in sync, f"{flag} missing from {sync!r}"
    assert "--no-editable" in syncs[-1], "the installed venv must not point back at /src"
    uv_images = [
        from_image(i) for i in instructions if i.keyword == "FROM" and "astral-sh/uv" in i.value
    ]
    assert uv_images, "uv must come from a pinned ghcr.io/astral-sh/uv image"
    assert ImageRef.parse(uv_images[0]).tag == makefile_uv_version(), (
        "Dockerfile and Makefile pin different uv versions"
    )


@BY_IMAGE
def test_dockerfile_copies_everything_the_service_is_built_from(image: ServiceImage) -> None:
    copies = [
        i for i in dockerfile(image.dockerfile) if i.keyword == "COPY" and "--from" not in i.value
    ]
    sources: list[str] = []
    for instruction in copies:
        words = [w for w in shlex.split(instruction.value) if not w.startswith("--")]
        sources.extend(words[:-1])
    for source in sources:
        if source != "uv.lock":  # generated by `make` (uv lock); checked on its own below
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    needed = {image.pyproject.parent, *workspace_dependencies(image.pyproject)}
    for directory in needed:
        relative = directory.relative_to(REPO).as_posix()
        assert f"{relative}/pyproject.toml" in sources, f"{relative}/pyproject.toml is not copied"
        assert relative in sources, f"the sources of {relative} are not copied"


def test_uv_lock_exists_for_the_docker_build() -> None:
    assert (REPO / "uv.lock").is_file(), "uv.lock is missing: `make setup` (uv lock) creates it"


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    for path in (".git", ".venv", ".local/jwt/private.pem", ".tools", "shared/events/.venv"):
        assert dockerignored(path), f"{path} would be sent to the Docker daemon"
    for path in ("services/ticket-service/src/ticket_service/__init__.py", "uv.lock"):
        assert not dockerignored(path), f"{path} is needed by the build but ignored"
    assert dockerignored("services/ticket-service/src/ticket_service/__pycache__/x.pyc")


def test_sla_dockerfile_copies_the_whole_workspace_definition() -> None:
    # uv resolves the workspace from the root pyproject.toml's member list: every member's
    # pyproject.toml must be in the build stage, not only the service's dependencies.
    copied = {
        shlex.split(i.value)[0]
        for i in dockerfile(SLA_DOCKERFILE)
        if i.keyword == "COPY" and "--from" not in i.value
    }
    members = tomllib.loads(ROOT_PYPROJECT.read_text())["tool"]["uv"]["workspace"]["members"]
    for member in members:
        assert f"{member}/pyproject.toml" in copied, f"{member}/pyproject.toml is not copied"


@BY_IMAGE
def test_dockerfile_runtime_user_port_and_entrypoint(image: ServiceImage) -> None:
    stage = final_stage(image.dockerfile)
    users = [i.value for i in stage if i.keyword == "USER"]
    assert users, "the image must not run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, "USER must be a numeric uid (runAsNonRoot checks it)"
    assert not gid or (gid.isdigit() and int(gid) > 0)
    exposed = [
        int(port.split("/")[0]) for i in stage if i.keyword == "EXPOSE" for port in i.value.split()
    ]
    assert exposed == [image.port]
    env = dockerfile_env(image.dockerfile)
    assert env[image.host_env] == "0.0.0.0", "in a container, listen on every interface"
    for name in env:
        if name.startswith("HELPDESK_"):
            assert image.is_setting(name), f"ENV {name} is not a setting of {image.name}"
    if image.port_env in env:
        assert int(env[image.port_env]) == image.port
    entrypoint = [exec_form(i.value) for i in stage if i.keyword == "ENTRYPOINT"][-1]
    assert entrypoint == ["python", "-m", image.module]
    cmd = [exec_form(i.value) for i in stage if i.keyword == "CMD"][-1]
    assert cmd == [image.default_command]
    image.assert_command(cmd[0])
    # Both images run as the same user (the Kubernetes securityContexts name one uid).
    assert users[-1] == [i.value for i in final_stage(DOCKERFILE) if i.keyword == "USER"][-1]


def test_sla_image_owns_its_data_directory() -> None:
    # A named volume (compose) starts out with the ownership of the image's directory: the data
    # directory must exist in the image and belong to the service user, or Faust cannot write.
    stage = final_stage(SLA_DOCKERFILE)
    data_dir = dockerfile_env(SLA_DOCKERFILE)["HELPDESK_SLA_DATA_DIR"]
    user = [i.value for i in stage if i.keyword == "USER"][-1]
    runs = " ".join(i.value for i in stage if i.keyword == "RUN")
    assert f"mkdir -p {data_dir}" in runs
    assert f"chown {user} {data_dir}" in runs


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[int, type[_Health]]]:
    handler = type("Health", (_Health,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(port: int, image: ServiceImage = TICKET) -> int:
    healthchecks = [i.value for i in final_stage(image.dockerfile) if i.keyword == "HEALTHCHECK"]
    assert healthchecks, "the image needs a HEALTHCHECK"
    command = exec_form(healthchecks[-1].split(" CMD ", 1)[1])
    assert command[0] == "python", "slim images have no curl: the check must use python"
    env = {**os.environ, image.port_env: str(port)}
    result = subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, timeout=30
    )
    return result.returncode


@BY_IMAGE
def test_dockerfile_healthcheck_passes_only_when_healthz_answers(
    health_server: tuple[int, type[_Health]], image: ServiceImage
) -> None:
    port, handler = health_server
    assert run_healthcheck(port, image) == 0
    handler.status = 503
    assert run_healthcheck(port, image) != 0
    assert run_healthcheck(unused_port(), image) != 0


def unused_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- docker-compose.yml --------------------------------------------------------------------


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
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


_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation: ``$$``, ``${VAR}``, ``${VAR:-default}``, ``$VAR``."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        value = env.get(name)
        op = match.group("op")
        if op == ":-" and not value:
            return match.group("default")
        if op == "-" and value is None:
            return match.group("default")
        return value or ""

    return _INTERPOLATION.sub(substitute, text)


@dataclass(frozen=True)
class CreatedTopic:
    partitions: int
    replication_factor: int
    config: dict[str, str]


def kafka_init_script(env: dict[str, str]) -> str:
    service = compose_services()["kafka-init"]
    assert service["entrypoint"][:1] == ["/bin/bash"], "kafka-init runs a bash script"
    (script,) = service["command"]
    assert isinstance(script, str)
    return interpolate(script, env)


def compose_topics(env: dict[str, str]) -> dict[str, CreatedTopic]:
    """The topics kafka-init creates, read from its script as the shell would run it."""
    lines = kafka_init_script(env).replace("\\\n", " ").splitlines()
    common: list[str] = []
    created: dict[str, CreatedTopic] = {}
    for line in lines:
        words = shlex.split(line)
        if "kafka-topics.sh" in line and "--create" in words:
            common = [w for w in words if w != "$@"]
        elif words[:1] == ["create"]:
            args = common + words[1:]
            config: dict[str, str] = {}
            for flag, value in itertools.pairwise(args):
                if flag == "--config":
                    key, _, val = value.partition("=")
                    config[key] = val
            topic = args[args.index("--topic") + 1]
            created[topic] = CreatedTopic(
                partitions=int(args[args.index("--partitions") + 1]),
                replication_factor=int(args[args.index("--replication-factor") + 1]),
                config=config,
            )
    assert common, "kafka-init defines no create() wrapper around kafka-topics.sh --create"
    return created


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


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


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


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


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
        # Each image is built from its own Dockerfile, whichever service names it.
        dockerfile_path = image_of(service["image"]).dockerfile
        assert service["build"]["dockerfile"] == dockerfile_path.relative_to(REPO).as_posix()
        assert (REPO / service["build"]["context"]).resolve() == REPO


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


def published_ports(service: dict[str, Any]) -> list[list[str]]:
    """``[host port, container port]`` of each short-syntax port mapping."""
    return [str(port).rsplit(":", 2)[-2:] for port in service.get("ports", [])]


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


def compose_named_volume(service: dict[str, Any], target: str) -> str:
    """The named volume (declared at the top level) mounted at ``target`` in ``service``."""
    names = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            if rest.split(":")[0] == target:
                names.append(source)
        elif volume.get("target") == target and volume.get("type", "volume") == "volume":
            names.append(volume["source"])
    assert len(names) == 1, f"one named volume must be mounted at {target}"
    assert names[0] in (compose().get("volumes") or {}), f"volume {names[0]} is not declared"
    return names[0]


@pytest.mark.parametrize("ticket_partitions", [None, "9"])
def test_compose_sla_service_settings(
    monkeypatch: pytest.MonkeyPatch, ticket_partitions: str | None
) -> None:
    host_env = {} if ticket_partitions is None else {"HELPDESK_TOPIC_PARTITIONS": ticket_partitions}
    service = compose_services()["sla-service"]
    env = {k: interpolate(v, host_env) for k, v in compose_env(service).items()}
    for key in env:
        assert key.upper() in sla_env_names(), f"sla-service: {key} is not an SLA setting"
    settings = sla_settings_from(monkeypatch, {**dockerfile_env(SLA_DOCKERFILE), **env})
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


# --- deploy/k8s: kustomize and schemas -----------------------------------------------------


def test_kustomization_lists_every_manifest() -> None:
    listed = {path.resolve() for path in kustomize_resource_paths()}
    on_disk = {p.resolve() for p in K8S_DIR.rglob("*.yaml") if p.name != "kustomization.yaml"}
    on_disk |= {p.resolve() for p in K8S_DIR.rglob("*.yml")}
    assert listed == on_disk, f"unlisted: {on_disk - listed}, missing: {listed - on_disk}"


def test_kustomization_uses_only_supported_fields() -> None:
    # k8s_documents() renders these fields the way kustomize does; extend it before using more.
    assert set(kustomization()) <= {"apiVersion", "kind", "namespace", "resources"}
    assert kustomization()["namespace"] == "helpdesk"


def canonical(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(doc, sort_keys=True) for doc in docs)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_renders_the_same_objects() -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S_DIR)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    rendered = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert canonical(rendered) == canonical(k8s_documents())


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_builtin_kinds_validate_against_the_kubernetes_schema(version: str) -> None:
    errors: list[str] = []
    checked = 0
    for doc in k8s_documents():
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            continue
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
            checked += 1
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{where}: {error.message} at {list(error.absolute_path)}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{where}: unknown kind ({error.message})")
    assert not errors, "\n".join(errors)
    assert checked >= len(TICKET_WORKLOADS) + 3  # workloads, Service, PDBs, SA, Namespace


def test_kubernetes_schema_validation_catches_mistakes() -> None:
    deployment = one_doc("Deployment", "ticket-service")
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "two"
    misspelt = copy.deepcopy(deployment)
    pod_spec(misspelt)["containers"][0]["livenesProbe"] = {"httpGet": {"path": "/healthz"}}
    for broken in (wrong_type, misspelt):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def test_every_object_has_a_unique_valid_name() -> None:
    seen: set[tuple[str, str]] = set()
    for doc in k8s_documents():
        name = doc["metadata"]["name"]
        assert len(name) <= 253 and _DNS_SUBDOMAIN.match(name), name
        if doc["kind"] in ("Service", "Namespace"):
            assert len(name) <= 63 and _DNS_LABEL.match(name), f"{doc['kind']} {name}"
        assert (doc["kind"], name) not in seen, f"duplicate {doc['kind']} {name}"
        seen.add((doc["kind"], name))


# --- deploy/k8s: Strimzi -------------------------------------------------------------------


def kafka_cluster() -> dict[str, Any]:
    return one_doc("Kafka")


def plain_listener() -> dict[str, Any]:
    listeners = kafka_cluster()["spec"]["kafka"]["listeners"]
    plain = [li for li in listeners if li["type"] == "internal" and li["tls"] is False]
    assert plain, "the services need an internal plain listener"
    return plain[0]  # type: ignore[no-any-return]


def pool_replicas(role: str) -> int:
    name = kafka_cluster()["metadata"]["name"]
    pools = [
        p for p in docs_of("KafkaNodePool") if p["metadata"]["labels"]["strimzi.io/cluster"] == name
    ]
    return sum(int(p["spec"]["replicas"]) for p in pools if role in p["spec"]["roles"])


def test_strimzi_kafka_is_kraft_with_node_pools() -> None:
    kafka = kafka_cluster()
    name = kafka["metadata"]["name"]
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"
    spec = kafka["spec"]
    assert "zookeeper" not in spec, "Kafka 4 has no ZooKeeper"
    for moved in ("replicas", "storage"):
        assert moved not in spec["kafka"], f"with node pools, {moved} belongs in the KafkaNodePool"
    listeners = spec["kafka"]["listeners"]
    assert len({li["name"] for li in listeners}) == len(listeners)
    assert len({li["port"] for li in listeners}) == len(listeners)
    for listener in listeners:
        assert re.fullmatch(r"[a-z0-9]{1,11}", listener["name"]), listener["name"]
        assert listener["type"] in (
            "internal",
            "route",
            "loadbalancer",
            "nodeport",
            "ingress",
            "cluster-ip",
        )
        assert isinstance(listener["tls"], bool)
    assert plain_listener()["port"] == 9092
    assert "topicOperator" in spec.get("entityOperator", {}), "KafkaTopic needs the Topic Operator"

    pools = docs_of("KafkaNodePool")
    assert pools
    for pool in pools:
        assert pool["apiVersion"] == "kafka.strimzi.io/v1"
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == name
        roles = pool["spec"]["roles"]
        assert roles and set(roles) <= {"broker", "controller"}
        assert isinstance(pool["spec"]["replicas"], int) and pool["spec"]["replicas"] >= 1
        storage = pool["spec"]["storage"]
        volumes = storage["volumes"] if storage["type"] == "jbod" else [storage]
        for volume in volumes:
            assert volume["type"] in ("persistent-claim", "ephemeral")
            if volume["type"] == "persistent-claim":
                assert re.fullmatch(r"\d+(Gi|Ti|Mi)", volume["size"])
                assert volume.get("deleteClaim", False) is False, "never delete Kafka's data"
    controllers, brokers = pool_replicas("controller"), pool_replicas("broker")
    assert controllers >= 3 and controllers % 2 == 1, "a KRaft quorum needs an odd number >= 3"
    assert brokers >= 3

    config = spec["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False, "topics come from KafkaTopic resources"
    assert int(config["default.replication.factor"]) <= brokers
    assert int(config["offsets.topic.replication.factor"]) <= brokers
    assert int(config["min.insync.replicas"]) < int(config["default.replication.factor"])


def test_strimzi_kafka_version_follows_the_pin() -> None:
    pinned = pom_kafka_version()
    kafka = kafka_cluster()["spec"]["kafka"]
    version = str(kafka["version"])
    assert version == pinned, "one Kafka version for local, compose and Kubernetes (DESIGN.md §5)"
    major_minor = ".".join(version.split(".")[:2])
    assert version.split(".")[0] == pinned.split(".")[0], "same Kafka major version everywhere"
    if "metadataVersion" in kafka:
        assert str(kafka["metadataVersion"]).startswith(f"{major_minor}-IV")


def kafka_topics() -> dict[str, dict[str, Any]]:
    return {t["spec"].get("topicName", t["metadata"]["name"]): t for t in docs_of("KafkaTopic")}


@dataclass(frozen=True)
class FaustTopic:
    partitions: int
    compacted: bool
    replicas: int


def sla_worker_topics(monkeypatch: pytest.MonkeyPatch) -> dict[str, FaustTopic]:
    """The internal topics the SLA worker (Faust) declares, as configured by its Deployment."""
    (container,) = pod_spec(one_doc("StatefulSet", "sla-service"))["containers"]
    env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    settings = sla_settings_from(monkeypatch, {**dockerfile_env(SLA_DOCKERFILE), **env})
    worker = create_worker(settings)
    changelog = worker.table.changelog_topic
    replicas = int(worker.app.conf.topic_replication_factor)
    return {
        worker.ticks_topic_name: FaustTopic(
            int(worker.ticks.partitions or 0), compacted=False, replicas=replicas
        ),
        changelog.get_topic_name(): FaustTopic(
            int(changelog.partitions or 0), compacted=True, replicas=replicas
        ),
        # faust.assignor.leader_assignor: one partition, always.
        f"{worker.app.conf.id}-__assignor-__leader": FaustTopic(
            1, compacted=False, replicas=replicas
        ),
    }


def assignment_worker_topics(monkeypatch: pytest.MonkeyPatch) -> dict[str, FaustTopic]:
    """The internal topics the assignment worker declares, as configured by its Deployment."""
    (container,) = pod_spec(one_doc("StatefulSet", "assignment-service"))["containers"]
    env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    settings = assignment_settings_from(
        monkeypatch, {**dockerfile_env(ASSIGNMENT_DOCKERFILE), **env}
    )
    worker = create_assignment_worker(settings)
    replicas = int(worker.app.conf.topic_replication_factor)
    topics = {
        worker.team_topic_name: FaustTopic(
            int(worker.team_topic.partitions or 0), compacted=False, replicas=replicas
        ),
        f"{worker.app.conf.id}-__assignor-__leader": FaustTopic(
            1, compacted=False, replicas=replicas
        ),
    }
    for table in (worker.facts_table, worker.directory_table, worker.team_table):
        changelog = table.changelog_topic
        topics[changelog.get_topic_name()] = FaustTopic(
            int(changelog.partitions or 0), compacted=True, replicas=replicas
        )
    return topics


def test_assignment_worker_topics_are_declared_with_replicas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster = kafka_cluster()["metadata"]["name"]
    broker_min_isr = int(kafka_cluster()["spec"]["kafka"]["config"]["min.insync.replicas"])
    topics = kafka_topics()
    faust_topics = assignment_worker_topics(monkeypatch)
    assert len(faust_topics) == 5
    for name, faust_topic in faust_topics.items():
        assert name in topics, f"{name} is not declared as a KafkaTopic"
        topic = topics[name]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster, name
        assert topic["spec"]["partitions"] == faust_topic.partitions, name
        config = {key: str(value) for key, value in topic["spec"]["config"].items()}
        min_isr = int(config.get("min.insync.replicas", broker_min_isr))
        assert min_isr < topic["spec"]["replicas"] <= pool_replicas("broker"), name
        assert (config.get("cleanup.policy") == "compact") == faust_topic.compacted, name
        if faust_topic.compacted:  # segments that let the cleaner keep restarts short
            assert {key: config.get(key) for key in COMPACTED} == COMPACTED, name
        assert faust_topic.replicas == topic["spec"]["replicas"], name
    ticket_partitions = topics[TICKETS]["spec"]["partitions"]
    # Team requests, ticket facts and team state follow the tickets topic; the directory table
    # its one-partition topic; the leader topic has one.
    assert sorted(t.partitions for t in faust_topics.values()) == [
        1,
        1,
        ticket_partitions,
        ticket_partitions,
        ticket_partitions,
    ]


def test_kafka_topics_match_the_event_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_TOPIC_PARTITIONS", raising=False)
    cluster = kafka_cluster()["metadata"]["name"]
    brokers = pool_replicas("broker")
    topics = kafka_topics()
    expected = {spec.name: spec for spec in all_topics()}
    faust_topics = sla_worker_topics(monkeypatch) | assignment_worker_topics(monkeypatch)
    assert set(topics) == set(expected) | set(faust_topics)
    ticket_keyed: set[int] = set()
    for name, spec in expected.items():
        topic = topics[name]
        assert topic["apiVersion"] == "kafka.strimzi.io/v1"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster, name
        partitions = topic["spec"]["partitions"]
        if spec.key == "ticket id":
            assert partitions == PRODUCTION_TICKET_PARTITIONS, name
            ticket_keyed.add(partitions)
        else:
            assert partitions == spec.partitions, name
        config = {key: str(value) for key, value in topic["spec"]["config"].items()}
        for key, value in spec.config().items():
            assert config.get(key) == value, f"{name}: {key}"
        replicas = topic["spec"]["replicas"]
        assert replicas <= brokers
        assert int(config.get("min.insync.replicas", "1")) < replicas
    assert len(ticket_keyed) == 1, "ticket-keyed topics must be co-partitioned"


def test_sla_worker_topics_are_declared_with_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    # Faust would create these with one replica, which min.insync.replicas=2 and acks=all refuse.
    cluster = kafka_cluster()["metadata"]["name"]
    broker_min_isr = int(kafka_cluster()["spec"]["kafka"]["config"]["min.insync.replicas"])
    topics = kafka_topics()
    faust_topics = sla_worker_topics(monkeypatch)
    assert len(faust_topics) == 3
    for name, faust_topic in faust_topics.items():
        assert name in topics, f"{name} is not declared as a KafkaTopic"
        topic = topics[name]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster, name
        assert topic["spec"]["partitions"] == faust_topic.partitions, name
        config = {key: str(value) for key, value in topic["spec"]["config"].items()}
        min_isr = int(config.get("min.insync.replicas", broker_min_isr))
        assert min_isr < topic["spec"]["replicas"] <= pool_replicas("broker"), name
        assert (config.get("cleanup.policy") == "compact") == faust_topic.compacted, name
        if faust_topic.compacted:  # segments that let the cleaner keep restarts short
            assert {key: config.get(key) for key in COMPACTED} == COMPACTED, name
        # The worker itself would declare them with this many replicas: the same number.
        assert faust_topic.replicas == topic["spec"]["replicas"], name
    # Ticks and state are co-partitioned with the tickets topic they are joined with.
    ticket_partitions = topics[TICKETS]["spec"]["partitions"]
    assert sorted(t.partitions for t in faust_topics.values()) == [
        1,
        ticket_partitions,
        ticket_partitions,
    ]


# --- deploy/k8s: CloudNativePG -------------------------------------------------------------


def postgres_cluster() -> dict[str, Any]:
    return one_doc("Cluster")


def test_cloudnativepg_cluster() -> None:
    cluster = postgres_cluster()
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert spec["instances"] == 3
    image = ImageRef.parse(spec["imageName"])
    assert image.name == "ghcr.io/cloudnative-pg/postgresql"
    assert image.tag and image.tag.split(".")[0] == str(POSTGRES_MAJOR)
    compose_pg = ImageRef.parse(compose_services()["postgres"]["image"])
    assert compose_pg.tag and image.tag.split("-")[0] == compose_pg.tag.split("-")[0], "same minor"
    assert re.fullmatch(r"\d+(Gi|Ti)", spec["storage"]["size"])
    initdb = spec["bootstrap"]["initdb"]
    assert initdb["database"] and initdb["owner"]
    for key in ("requests", "limits"):
        assert spec["resources"][key]["memory"]


def test_workloads_use_the_cloudnativepg_app_secret() -> None:
    secret = f"{postgres_cluster()['metadata']['name']}-app"
    for workload in workloads():
        for container in all_containers(pod_spec(workload)):
            if container["image"] not in (ticket_image(), notification_image(), gateway_image()):
                assert "HELPDESK_DATABASE_URL" not in {e["name"] for e in container.get("env", [])}
                continue
            env = {e["name"]: e for e in container.get("env", [])}
            url = env.get("HELPDESK_DATABASE_URL")
            assert url, f"{workload['metadata']['name']} has no HELPDESK_DATABASE_URL"
            assert url["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "uri"}


# --- deploy/k8s: the ticket service --------------------------------------------------------


def resolve_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert named, f"no container port named {port}"
    return int(named[0])


def test_workloads_run_the_ticket_service_image_and_commands() -> None:
    found = {(w["kind"], w["metadata"]["name"]): w for w in workloads()}
    assert set(TICKET_WORKLOADS) <= set(found)
    for key, command in TICKET_WORKLOADS.items():
        containers = pod_spec(found[key])["containers"]
        assert len(containers) == 1
        assert (
            containers[0]["image"]
            == ticket_image()
            == compose_services()["ticket-service"]["image"]
        )
        assert containers[0].get("args", ["serve"]) == [command]
        assert "command" not in containers[0], "keep the image's entrypoint"
        # The OpenAPI schemas do not carry this enum; a typo would only fail at apply time.
        assert containers[0].get("imagePullPolicy", "IfNotPresent") in PULL_POLICIES
        assert_cli_command(command)
    assert found[("Deployment", "ticket-service")]["spec"]["replicas"] == 2
    assert found[("Deployment", "ticket-relay")]["spec"]["replicas"] == 2
    assert pod_spec(found[("Job", "ticket-service-migrate")])["restartPolicy"] in (
        "Never",
        "OnFailure",
    )


def test_workload_environment_is_what_the_service_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    kafka_bootstrap = (
        f"{kafka_cluster()['metadata']['name']}-kafka-bootstrap:{plain_listener()['port']}"
    )
    checked = 0
    for workload in workloads():
        for container in all_containers(pod_spec(workload)):
            if container["image"] != ticket_image():
                continue
            checked += 1
            env: dict[str, str] = {}
            for var in container.get("env", []):
                assert settings_field(var["name"]), f"{var['name']} is not a setting"
                # Values from Secrets: a stand-in of the right shape.
                env[var["name"]] = var.get("value", "postgresql://user:pw@db:5432/helpdesk")
            settings = settings_from(monkeypatch, {**dockerfile_env(), **env})
            if container.get("args", ["serve"])[0] in KAFKA_COMMANDS:
                assert "HELPDESK_KAFKA_BOOTSTRAP" in env, workload["metadata"]["name"]
                assert settings.kafka_bootstrap == kafka_bootstrap, workload["metadata"]["name"]
    assert checked == len(TICKET_WORKLOADS)


def env_value(var: dict[str, Any], workload: dict[str, Any]) -> str:
    """A container variable's value; the pod's name (``valueFrom.fieldRef``) as the first pod of
    the StatefulSet has it."""
    if "value" in var:
        return str(var["value"])
    assert var["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", var
    return f"{workload['metadata']['name']}-0"


def test_sla_workload_environment_is_what_the_worker_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kafka_bootstrap = (
        f"{kafka_cluster()['metadata']['name']}-kafka-bootstrap:{plain_listener()['port']}"
    )
    deployment = one_doc("StatefulSet", "sla-service")
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    env: dict[str, str] = {}
    for var in container.get("env", []):
        assert var["name"].upper() in sla_env_names(), f"{var['name']} is not an SLA setting"
        env[var["name"]] = env_value(var, deployment)
    settings = sla_settings_from(monkeypatch, {**dockerfile_env(SLA_DOCKERFILE), **env})
    # Static membership: each pod is its own stable member (issue #13).
    assert settings.group_instance_id == f"{deployment['metadata']['name']}-0"
    assert settings.kafka_bootstrap == kafka_bootstrap
    assert settings.http_host == "0.0.0.0"
    assert settings.http_port == SLA_HTTP_PORT
    assert settings.topic_partitions == kafka_topics()[TICKETS]["spec"]["partitions"], (
        "the worker's topics and table are co-partitioned with helpdesk.tickets.v1"
    )
    # Faust's data directory: writable, and a volume of the StatefulSet's own that outlives the
    # pod (its RocksDB tables: a restart reads only the changelog's tail, issue #13).
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    mount = mounts.get(str(settings.data_dir))
    assert mount and not mount.get("readOnly"), "the data directory must be mounted writable"
    assert_claimed_volume(deployment, mount["name"])


def test_sla_workload_runs_the_sla_image_and_worker() -> None:
    deployment = one_doc("StatefulSet", "sla-service")
    (container,) = pod_spec(deployment)["containers"]
    assert container["image"] == sla_image() == compose_services()["sla-service"]["image"]
    assert "command" not in container, "keep the image's entrypoint"
    assert container.get("imagePullPolicy", "IfNotPresent") in PULL_POLICIES
    args = container.get("args", ["worker"])
    assert args == ["worker"]
    assert_sla_cli_command(args[0])
    # One worker: several would split the partitions, and each one's HTTP read API answers only
    # for the tickets on its own partitions (deploy/k8s/sla-service/statefulset.yaml).
    assert deployment["spec"]["replicas"] == 1


def test_sla_ports_probes_and_service() -> None:
    (container,) = pod_spec(one_doc("StatefulSet", "sla-service"))["containers"]
    assert [p["containerPort"] for p in container["ports"]] == [SLA_HTTP_PORT]
    readiness, liveness = container["readinessProbe"], container["livenessProbe"]
    assert readiness["httpGet"]["path"] == "/readyz"
    assert liveness["httpGet"]["path"] == "/healthz", "liveness must not wait for recovery"
    for probe in (readiness, liveness, container.get("startupProbe")):
        if probe:
            assert resolve_port(container, probe["httpGet"]["port"]) == SLA_HTTP_PORT
    service = one_doc("Service", "sla-service")
    selector = service["spec"]["selector"]
    selected = [w for w in workloads() if selector.items() <= pod_labels(w).items()]
    assert [w["metadata"]["name"] for w in selected] == ["sla-service"]
    assert service["spec"]["ports"]
    for port in service["spec"]["ports"]:
        assert port["port"] == SLA_HTTP_PORT
        assert resolve_port(container, port["targetPort"]) == SLA_HTTP_PORT


def test_assignment_workload_environment_is_what_the_worker_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployment = one_doc("StatefulSet", "assignment-service")
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    env: dict[str, str] = {}
    for var in container.get("env", []):
        assert var["name"].upper() in assignment_env_names(), f"{var['name']} is not a setting"
        env[var["name"]] = env_value(var, deployment)
    settings = assignment_settings_from(
        monkeypatch, {**dockerfile_env(ASSIGNMENT_DOCKERFILE), **env}
    )
    assert settings.group_instance_id == f"{deployment['metadata']['name']}-0"
    assert settings.kafka_bootstrap == (
        f"{kafka_cluster()['metadata']['name']}-kafka-bootstrap:{plain_listener()['port']}"
    )
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", ASSIGNMENT_HTTP_PORT)
    assert settings.topic_partitions == kafka_topics()[TICKETS]["spec"]["partitions"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    data = mounts[str(settings.data_dir)]
    assert not data.get("readOnly")
    assert_claimed_volume(deployment, data["name"])
    key = str(settings.jwt_public_key_file)
    mount = next(m for m in container["volumeMounts"] if key.startswith(m["mountPath"] + "/"))
    assert mount.get("readOnly") is True
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    assert [item["path"] for item in volume["configMap"]["items"]] == [key.rsplit("/", 1)[1]]


def test_compose_assignment_service_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    service = compose_services()["assignment-service"]
    env = {k: interpolate(v, {}) for k, v in compose_env(service).items()}
    for key in env:
        assert key.upper() in assignment_env_names(), f"assignment-service: {key} is not a setting"
    settings = assignment_settings_from(
        monkeypatch, {**dockerfile_env(ASSIGNMENT_DOCKERFILE), **env}
    )
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", ASSIGNMENT_HTTP_PORT)
    assert settings.topic_partitions == compose_topics({})[TICKETS].partitions
    compose_named_volume(service, str(settings.data_dir))
    check = " ".join(service["healthcheck"]["test"])
    assert f"http://127.0.0.1:{ASSIGNMENT_HTTP_PORT}/readyz" in check, "healthy means ready"


def test_ticket_attachments_are_on_a_shared_writable_volume() -> None:
    deployment = one_doc("Deployment", "ticket-service")
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    blob_dir = next(e["value"] for e in container["env"] if e["name"] == "HELPDESK_BLOB_DIR")
    assert Path(blob_dir).is_absolute()
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == blob_dir)
    assert not mount.get("readOnly")
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    claim = one_doc("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    if deployment["spec"]["replicas"] > 1:
        # Every replica serves every attachment: one volume, mounted on several nodes.
        assert "ReadWriteMany" in claim["spec"]["accessModes"]
    assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsUser"]


def test_every_workload_has_its_service_account() -> None:
    accounts = {doc["metadata"]["name"] for doc in docs_of("ServiceAccount")}
    for workload in workloads():
        assert pod_spec(workload).get("serviceAccountName") in accounts, workload["metadata"]


def test_api_ports_probes_and_service() -> None:
    deployment = one_doc("Deployment", "ticket-service")
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    assert [p["containerPort"] for p in container["ports"]] == [HTTP_PORT]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env.get("HELPDESK_HTTP_PORT") or HTTP_PORT) == HTTP_PORT
    readiness, liveness = container["readinessProbe"], container["livenessProbe"]
    assert readiness["httpGet"]["path"] == "/readyz"
    assert liveness["httpGet"]["path"] == "/healthz"
    for probe in (readiness, liveness, container.get("startupProbe")):
        if probe:
            assert resolve_port(container, probe["httpGet"]["port"]) == HTTP_PORT

    service = one_doc("Service", "ticket-service")
    selector = service["spec"]["selector"]
    selected = [w for w in workloads() if selector.items() <= pod_labels(w).items()]
    assert [w["metadata"]["name"] for w in selected] == ["ticket-service"], "only the API pods"
    for port in service["spec"]["ports"]:
        assert port["port"] == HTTP_PORT
        assert resolve_port(container, port["targetPort"]) == HTTP_PORT


def test_relay_and_migrations_serve_no_http() -> None:
    for workload in (
        one_doc("Deployment", "ticket-relay"),
        one_doc("Deployment", "ticket-sla-projector"),
        one_doc("Job", "ticket-service-migrate"),
    ):
        (container,) = pod_spec(workload)["containers"]
        assert not container.get("ports")
        assert not container.get("readinessProbe") and not container.get("livenessProbe")


def test_pod_disruption_budgets_protect_without_blocking_drains() -> None:
    budgets = docs_of("PodDisruptionBudget")
    assert budgets
    covered = set()
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        targets = [w for w in docs_of("Deployment") if selector.items() <= pod_labels(w).items()]
        assert len(targets) == 1, f"{budget['metadata']['name']} must select one Deployment"
        replicas = targets[0]["spec"]["replicas"]
        assert 1 <= budget["spec"]["minAvailable"] < replicas, "a drain must still be possible"
        covered.add(targets[0]["metadata"]["name"])
    assert "ticket-service" in covered


def test_pods_run_unprivileged_with_a_read_only_root() -> None:
    for workload in workloads():
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        pod_security = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, name
        for container in all_containers(spec):
            image = image_of(container["image"])
            user = next(
                i.value for i in reversed(final_stage(image.dockerfile)) if i.keyword == "USER"
            )
            uid = int(user.split(":")[0])
            security = {**pod_security, **container.get("securityContext", {})}
            assert security.get("runAsNonRoot") is True, name
            assert security.get("runAsUser", uid) == uid, f"{name}: the image's user is {uid}"
            assert security.get("allowPrivilegeEscalation") is False, name
            assert security.get("readOnlyRootFilesystem") is True, name
            assert "ALL" in security.get("capabilities", {}).get("drop", []), name
            assert security.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]], (
                f"{name}: writable /tmp"
            )
            resources = container["resources"]
            assert resources["requests"]["cpu"] and resources["requests"]["memory"], name
            assert resources["limits"]["memory"], name


def test_jwt_public_key_is_mounted_where_the_service_reads_it() -> None:
    spec = pod_spec(one_doc("Deployment", "ticket-service"))
    (container,) = spec["containers"]
    path = next(e["value"] for e in container["env"] if e["name"] == "HELPDESK_JWT_PUBLIC_KEY_FILE")
    assert path == dockerfile_env()["HELPDESK_JWT_PUBLIC_KEY_FILE"]
    mount = next(m for m in container["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
    assert mount.get("readOnly") is True
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    source = volume.get("configMap") or volume.get("secret")
    assert source, "the key comes from a ConfigMap or a Secret"
    file_name = path[len(mount["mountPath"]) + 1 :]
    assert [item["path"] for item in source["items"]] == [file_name]


# --- across all of it ----------------------------------------------------------------------


def every_image() -> list[tuple[str, str]]:
    images = [(f"compose {name}", s["image"]) for name, s in compose_services().items()]
    for workload in workloads():
        for container in all_containers(pod_spec(workload)):
            images.append((f"k8s {workload['metadata']['name']}", container["image"]))
    images.append(("k8s Cluster", postgres_cluster()["spec"]["imageName"]))
    for image in IMAGES:
        froms = [i for i in dockerfile(image.dockerfile) if i.keyword == "FROM"]
        stages = {i.value.split()[-1] for i in froms if " AS " in i.value.upper()}
        images.extend(
            (image.dockerfile.relative_to(REPO).as_posix(), from_image(i))
            for i in froms
            if from_image(i) not in stages
        )
    return images


def test_every_image_is_pinned() -> None:
    images = every_image()
    assert len(images) >= 10
    for where, ref in images:
        image = ImageRef.parse(ref)
        assert image.tag or image.digest, f"{where}: {ref} has no tag"
        assert image.tag != "latest", f"{where}: {ref}"
        assert image.digest or re.search(r"\d", image.tag or ""), f"{where}: {ref} is not a version"


def test_deploy_readme_describes_every_manifest() -> None:
    readme = DEPLOY_README.read_text(encoding="utf-8")
    for path in [K8S_DIR / "kustomization.yaml", *kustomize_resource_paths()]:
        assert f"`{path.relative_to(K8S_DIR).as_posix()}`" in readme, path


# --- the local stack, compose and Kubernetes in step ------------------------------------------


def stack_processes() -> list[dict[str, Any]]:
    processes = tomllib.loads(STACK_TOML.read_text(encoding="utf-8"))["process"]
    assert isinstance(processes, list) and processes
    return processes


def stack_command(argv: list[str]) -> tuple[ServiceImage, list[str]]:
    """The image and the arguments of a stack.toml command ``{python} -m <module> <args>``."""
    assert argv[:2] == ["{python}", "-m"], f"not a `python -m` command: {argv}"
    images = {image.module: image for image in IMAGES}
    assert argv[2] in images, f"no image runs python -m {argv[2]}"
    return images[argv[2]], argv[3:]


def workload_kind(name: str) -> str:
    """``StatefulSet`` for the workers that keep state on a volume, else ``Deployment``."""
    return (
        "StatefulSet"
        if docs_of("StatefulSet")
        and any(d["metadata"]["name"] == name for d in docs_of("StatefulSet"))
        else "Deployment"
    )


def assert_claimed_volume(workload: dict[str, Any], name: str) -> None:
    """``name`` is a volume claimed by the StatefulSet ``workload`` for each pod (kept across
    restarts), written by one node at a time, not a pod volume that ends with the pod."""
    assert workload["kind"] == "StatefulSet"
    assert name not in {v["name"] for v in pod_spec(workload).get("volumes", [])}
    claims = {c["metadata"]["name"]: c for c in workload["spec"]["volumeClaimTemplates"]}
    assert name in claims, f"no volumeClaimTemplate {name}"
    claim = claims[name]["spec"]
    assert claim["accessModes"] == ["ReadWriteOnce"]
    assert re.fullmatch(r"\d+(Mi|Gi)", claim["resources"]["requests"]["storage"])
    service = one_doc("Service", workload["spec"]["serviceName"])
    assert service["spec"]["selector"].items() <= pod_labels(workload).items()


def container_of(kind: str, name: str) -> dict[str, Any]:
    containers = pod_spec(one_doc(kind, name))["containers"]
    assert len(containers) == 1, f"{kind}/{name}"
    return containers[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("process", stack_processes(), ids=lambda p: p["name"])
def test_every_local_process_runs_in_compose_and_on_kubernetes(process: dict[str, Any]) -> None:
    name = process["name"]
    image, args = stack_command(process["command"])
    image.assert_command(args[0])

    service = compose_services().get(name)
    assert service, f"docker-compose.yml has no service {name}"
    assert service["image"] == image.image, name
    assert service["command"] == args, name
    container = container_of(workload_kind(name), name)
    assert container["image"] == image.image, name
    assert container.get("args", [image.default_command]) == args, name

    health = process.get("health")
    if health:
        url = urllib.parse.urlsplit(health)
        assert url.port == image.port, f"{name}: stack.toml and the image disagree on the port"
        check = " ".join(service["healthcheck"]["test"])
        assert f"127.0.0.1:{url.port}{url.path}" in check, f"compose {name}: {check}"
        assert [str(url.port), str(url.port)] in published_ports(service), name
        readiness = container["readinessProbe"]["httpGet"]
        assert readiness["path"] == url.path, name
        assert resolve_port(container, readiness["port"]) == url.port, name
    else:
        assert service.get("healthcheck", {}).get("disable") is True, f"compose {name}"
        assert "readinessProbe" not in container and "livenessProbe" not in container, name

    # One-shot commands the local stack runs first: a one-shot compose service the process waits
    # for, and a Kubernetes Job.
    for pre in process.get("pre", []):
        pre_image, pre_args = stack_command(pre)
        one_shots = [
            other
            for other, svc in compose_services().items()
            if svc["image"] == pre_image.image
            and svc.get("command") == pre_args
            and svc.get("restart", "no") == "no"
        ]
        assert one_shots, f"compose has no one-shot {pre_args} for {name}"
        assert any(
            depends_on(service).get(other) == "service_completed_successfully"
            for other in one_shots
        ), f"compose {name} does not wait for {pre_args}"
        jobs = [
            job
            for job in docs_of("Job")
            if [c["image"] for c in pod_spec(job)["containers"]] == [pre_image.image]
            and pod_spec(job)["containers"][0].get("args") == pre_args
        ]
        assert jobs, f"Kubernetes has no Job running {pre_args} for {name}"


def test_compose_and_kubernetes_run_nothing_the_local_stack_does_not() -> None:
    names = {process["name"] for process in stack_processes()}
    project_images = {image.image for image in IMAGES}
    long_running = {
        name
        for name, service in compose_services().items()
        if service["image"] in project_images and service.get("restart", "no") != "no"
    }
    assert long_running == names, "compose and tools/devstack/stack.toml differ"
    deployments = {d["metadata"]["name"] for d in docs_of("Deployment") + docs_of("StatefulSet")}
    assert deployments == names, "deploy/k8s and tools/devstack/stack.toml differ"


# --- the notification service -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Deployment", "notification-service"), ("Job", "notification-service-migrate")],
)
def test_notification_workloads_environment_is_what_the_service_reads(
    monkeypatch: pytest.MonkeyPatch, kind: str, name: str
) -> None:
    container = container_of(kind, name)
    env: dict[str, str] = {}
    for var in container.get("env", []):
        assert var["name"].upper() in notification_env_names(), f"{var['name']} is not a setting"
        env[var["name"]] = var.get("value", "postgresql://user:pw@db:5432/helpdesk")
    settings = notification_settings_from(
        monkeypatch, {**dockerfile_env(NOTIFICATION_DOCKERFILE), **env}
    )
    # Its own schema of the helpdesk database: tables beside the ticket service's, not in them.
    assert settings.database_schema == "notifications"
    if kind == "Deployment":
        assert settings.kafka_bootstrap == (
            f"{kafka_cluster()['metadata']['name']}-kafka-bootstrap:{plain_listener()['port']}"
        )
        assert (settings.http_host, settings.http_port) == ("0.0.0.0", NOTIFICATION_HTTP_PORT)
        assert not settings.webhooks_allow_private, "private webhook targets stay refused"
        service = one_doc("Service", "notification-service")
        assert [p["port"] for p in service["spec"]["ports"]] == [NOTIFICATION_HTTP_PORT]


def test_compose_notification_service_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose_services()
    for name in ("notification-service", "notification-migrate"):
        env = {k: interpolate(v, {}) for k, v in compose_env(services[name]).items()}
        for key in env:
            assert key.upper() in notification_env_names(), f"{name}: {key} is not a setting"
        settings = notification_settings_from(
            monkeypatch, {**dockerfile_env(NOTIFICATION_DOCKERFILE), **env}
        )
        assert settings.database_schema == "notifications"
        ticket_url = compose_env(services["ticket-service"])["HELPDESK_DATABASE_URL"]
        assert settings.database_url == ticket_url, "the helpdesk database, its own schema"
    service = services["notification-service"]
    assert depends_on(service)["notification-migrate"] == "service_completed_successfully"
    assert [str(NOTIFICATION_HTTP_PORT), str(NOTIFICATION_HTTP_PORT)] in published_ports(service)


# --- the API gateway: the one public door ----------------------------------------------------


def test_the_httproute_sends_every_public_path_to_the_gateway() -> None:
    route = one_doc("HTTPRoute", "api-gateway")
    spec = route["spec"]
    assert spec["parentRefs"], "an HTTPRoute must name the Gateway it attaches to"
    prefixes = set()
    for rule in spec["rules"]:
        assert [(b["name"], b["port"]) for b in rule["backendRefs"]] == [
            ("api-gateway", GATEWAY_HTTP_PORT)
        ]
        for match in rule["matches"]:
            assert match["path"]["type"] == "PathPrefix"
            prefixes.add(match["path"]["value"])
    assert prefixes == {"/api", "/.well-known", "/agent", "/portal"}
    # Every prefix of the gateway's routing table is under a routed prefix
    for table_route in RoutingTable.load(ROUTES_FILE).routes:
        assert any(table_route.prefix.startswith(p + "/") for p in prefixes), table_route.prefix
    service = one_doc("Service", "api-gateway")
    assert [p["port"] for p in service["spec"]["ports"]] == [GATEWAY_HTTP_PORT]
    routed = {b["name"] for r in spec["rules"] for b in r["backendRefs"]}
    assert routed == {"api-gateway"}, "no service but the gateway is routed from outside"
    assert [d["metadata"]["name"] for d in docs_of("HTTPRoute")] == ["api-gateway"]


def test_the_gateway_signs_with_a_mounted_secret_and_compose_publishes_only_it() -> None:
    spec = pod_spec(one_doc("Deployment", "api-gateway"))
    (container,) = spec["containers"]
    env = {e["name"]: e for e in container["env"]}
    path = env["HELPDESK_JWT_PRIVATE_KEY_FILE"]["value"]
    mount = next(m for m in container["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
    assert mount.get("readOnly") is True
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    assert "secret" in volume, "the signing key is a Secret"
    upstreams = json.loads(env["HELPDESK_GATEWAY_UPSTREAMS"]["value"])
    table = RoutingTable.load(ROUTES_FILE)
    assert set(upstreams) == set(table.services)
    for name in ("ticket-service", "sla-service", "assignment-service"):
        port = one_doc("Service", name)["spec"]["ports"][0]["port"]
        assert upstreams[name] == f"http://{name}:{port}"
    for name, service in compose_services().items():
        for port in service.get("ports", []):
            host = str(port).rsplit(":", 2)
            if name == "api-gateway":
                assert str(port) == f"{GATEWAY_HTTP_PORT}:{GATEWAY_HTTP_PORT}"
            else:
                assert len(host) == 3 and host[0] == "127.0.0.1", f"{name} publishes {port}"
