"""Loading and reading the deployment files for the tests in this directory (split by subject:
test_images, test_compose, test_k8s_cluster, test_k8s_workloads, test_k8s_routes,
test_stack_parity).

Offline checks of the container deployment: docker-compose.yml, deploy/k8s and the Dockerfile.

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
import socket
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices

from api_gateway.entrypoints.cli import main as api_gateway_cli
from api_gateway.settings import Settings as GatewaySettings
from assignment_service.__main__ import main as assignment_service_cli
from assignment_service.entrypoints.worker import create_worker as create_assignment_worker
from assignment_service.settings import AssignmentSettings
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


DOCKERFILE = REPO / "Dockerfile"


DOCKERIGNORE = REPO / ".dockerignore"


KAFKA_POM = REPO / "tools" / "devstack" / "kafka" / "pom.xml"


MAKEFILE = REPO / "Makefile"


ROOT_PYPROJECT = REPO / "pyproject.toml"


SERVICE_PYPROJECT = REPO / "services" / "ticket-service" / "pyproject.toml"


SLA_PYPROJECT = REPO / "services" / "sla-service" / "pyproject.toml"


ASSIGNMENT_PYPROJECT = REPO / "services" / "assignment-service" / "pyproject.toml"


MAIL_PYPROJECT = REPO / "services" / "mail-gateway" / "pyproject.toml"


STACK_TOML = REPO / "tools" / "devstack" / "stack.toml"


NOTIFICATION_PYPROJECT = REPO / "services" / "notification-service" / "pyproject.toml"


GATEWAY_PYPROJECT = REPO / "services" / "api-gateway" / "pyproject.toml"


GATEWAY_HTTP_PORT = 8080


HTTP_PORT = 8001


SLA_HTTP_PORT = 8002


ASSIGNMENT_HTTP_PORT = 8003


NOTIFICATION_HTTP_PORT = 8005


MAIL_HTTP_PORT = 8004


POSTGRES_MAJOR = 15


PRODUCTION_TICKET_PARTITIONS = 12


K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1", "Kafka"),
    ("kafka.strimzi.io/v1", "KafkaNodePool"),
    ("kafka.strimzi.io/v1", "KafkaTopic"),
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}


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


KAFKA_COMMANDS = {"serve", "relay", "sla-projector", "commands"}


CLUSTER_SCOPED_KINDS = {"Namespace"}


PULL_POLICIES = {"Always", "IfNotPresent", "Never"}


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


def image_of_package(name: str, pyproject: Path) -> str:
    """The image reference the deployment uses for a service: its package version."""
    version = tomllib.loads(pyproject.read_text())["project"]["version"]
    assert isinstance(version, str)
    return f"helpdesk/{name}:{version}"


def ticket_image() -> str:
    return image_of_package("ticket-service", SERVICE_PYPROJECT)


def sla_image() -> str:
    return image_of_package("sla-service", SLA_PYPROJECT)


def assignment_image() -> str:
    return image_of_package("assignment-service", ASSIGNMENT_PYPROJECT)


def notification_image() -> str:
    return image_of_package("notification-service", NOTIFICATION_PYPROJECT)


def gateway_image() -> str:
    return image_of_package("api-gateway", GATEWAY_PYPROJECT)


def gateway_env_names() -> set[str]:
    """Every environment variable the gateway's Settings read (upper case)."""
    return settings_env_names(GatewaySettings)


def assert_gateway_cli_command(command: str) -> None:
    """``command`` is a subcommand of ``python -m api_gateway`` (its --help exits 0)."""
    with pytest.raises(SystemExit) as exit_info:
        api_gateway_cli([command, "--help"])
    assert exit_info.value.code == 0, f"`api-gateway {command}` is not a command of the CLI"


def mail_image() -> str:
    return image_of_package("mail-gateway", MAIL_PYPROJECT)


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


def only_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Leave exactly ``env`` of the HELPDESK_* variables (nothing from this shell)."""
    for name in list(os.environ):
        if name.startswith("HELPDESK_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """Settings as the service would build them from exactly ``env``."""
    only_env(monkeypatch, env)
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
    only_env(monkeypatch, env)
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
    only_env(monkeypatch, env)
    return SlaSettings()


def assignment_settings_from(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> AssignmentSettings:
    """AssignmentSettings as the worker would build them from exactly ``env``."""
    only_env(monkeypatch, env)
    return AssignmentSettings()


class _WorkerReached(Exception):
    pass


def cli_accepts(cli: Callable[[list[str]], int], command: list[str], start: str) -> bool:
    """Whether ``python -m <service> <command>`` (``cli``) goes on to start (stopped right there,
    at ``start``: nothing connects to Kafka or listens) instead of printing its usage and
    exiting 2."""

    def stop(*args: Any, **kwargs: Any) -> Any:
        raise _WorkerReached

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(start, stop)
        patch.setattr("helpdesk_platform.telemetry.setup_logging", lambda *a, **k: None)
        try:
            code = cli(command)
        except _WorkerReached:
            return True
    assert code == 2, f"{cli.__module__} {command}: exit {code}"
    return False


#: Where both Faust workers start (helpdesk_platform.faust_worker.run_worker).
WORKER_START = "helpdesk_platform.faust_worker.run_worker"


def sla_cli_accepts(command: list[str]) -> bool:
    return cli_accepts(sla_service_cli, command, WORKER_START)


def assert_sla_cli_command(command: str) -> None:
    assert sla_cli_accepts([command]), f"`sla_service {command}` is not a command of the CLI"


def assignment_cli_accepts(command: list[str]) -> bool:
    return cli_accepts(assignment_service_cli, command, WORKER_START)


def assert_assignment_cli_command(command: str) -> None:
    assert assignment_cli_accepts([command]), f"`assignment_service {command}` is not a command"


def mail_cli_accepts(command: list[str]) -> bool:
    return cli_accepts(mail_gateway_cli, command, "uvicorn.run")


@dataclass(frozen=True)
class ServiceImage:
    """One of the project's images: how it is built and what it runs."""

    name: str
    pyproject: Path
    package: str
    module: str
    port: int
    host_env: str
    port_env: str
    default_command: str

    @property
    def image(self) -> str:
        return image_of_package(self.name, self.pyproject)

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


BUILD_ARGS = ("SERVICE",)


def dockerfile(image: ServiceImage = TICKET) -> list[Instruction]:
    """The Dockerfile's instructions as ``image`` is built: ``--build-arg SERVICE=<its name>``
    substituted wherever an instruction names it (``${PATH}`` and the like are left alone)."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    for arg in BUILD_ARGS:
        text = text.replace(f"${{{arg}}}", image.name).replace(f"${arg}", image.name)
    return dockerfile_instructions(text)


def stage_names(instructions: list[Instruction]) -> dict[str, int]:
    """Stage name (``FROM ... AS name``) -> stage number."""
    return {
        i.value.split()[-1]: i.stage
        for i in instructions
        if i.keyword == "FROM" and " AS " in i.value.upper()
    }


def final_stage(image: ServiceImage = TICKET) -> list[Instruction]:
    """The instructions of ``image``'s target stage and of the stages it is built ``FROM``, in
    order: what ``docker build --target <image name>`` puts in the image."""
    instructions = dockerfile(image)
    names = stage_names(instructions)
    assert image.name in names, f"the Dockerfile has no stage {image.name}"
    chain = [names[image.name]]
    while True:
        base = next(i for i in instructions if i.keyword == "FROM" and i.stage == chain[0])
        if from_image(base) not in names:
            break
        chain.insert(0, names[from_image(base)])
    return [i for stage in chain for i in instructions if i.stage == stage]


def from_image(instruction: Instruction) -> str:
    words = [w for w in instruction.value.split() if not w.startswith("--")]
    return words[0]


def exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list)
    assert all(isinstance(item, str) for item in parsed)
    return parsed


def dockerfile_env(image: ServiceImage = TICKET) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in final_stage(image):
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


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def run_healthcheck(port: int, image: ServiceImage = TICKET) -> int:
    healthchecks = [i.value for i in final_stage(image) if i.keyword == "HEALTHCHECK"]
    assert healthchecks, "the image needs a HEALTHCHECK"
    command = exec_form(healthchecks[-1].split(" CMD ", 1)[1])
    assert command[0] == "python", "slim images have no curl: the check must use python"
    env = {**os.environ, image.port_env: str(port)}
    result = subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, timeout=30
    )
    return result.returncode


def unused_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def published_ports(service: dict[str, Any]) -> list[list[str]]:
    """``[host port, container port]`` of each short-syntax port mapping."""
    return [str(port).rsplit(":", 2)[-2:] for port in service.get("ports", [])]


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


def canonical(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(doc, sort_keys=True) for doc in docs)


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


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
    settings = sla_settings_from(monkeypatch, {**dockerfile_env(SLA), **env})
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
    settings = assignment_settings_from(monkeypatch, {**dockerfile_env(ASSIGNMENT), **env})
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


def postgres_cluster() -> dict[str, Any]:
    return one_doc("Cluster")


def resolve_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert named, f"no container port named {port}"
    return int(named[0])


def every_image() -> list[tuple[str, str]]:
    images = [(f"compose {name}", s["image"]) for name, s in compose_services().items()]
    for workload in workloads():
        for container in all_containers(pod_spec(workload)):
            images.append((f"k8s {workload['metadata']['name']}", container["image"]))
    images.append(("k8s Cluster", postgres_cluster()["spec"]["imageName"]))
    froms = [i for i in dockerfile() if i.keyword == "FROM"]
    stages = stage_names(froms)
    images.extend(
        (DOCKERFILE.relative_to(REPO).as_posix(), from_image(i))
        for i in froms
        if from_image(i) not in stages
    )
    return images


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
