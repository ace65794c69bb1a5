"""deploy/k8s, the workloads: images and commands, environment as each service reads it, ports,
probes, volumes, service accounts, disruption budgets and the pods' security context.

Shared loading and parsing helpers: :mod:`tests.deploy.manifests`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpdesk_events.topics import TICKETS

from .manifests import (
    ASSIGNMENT,
    ASSIGNMENT_HTTP_PORT,
    HTTP_PORT,
    KAFKA_COMMANDS,
    NOTIFICATION,
    NOTIFICATION_HTTP_PORT,
    PULL_POLICIES,
    SLA,
    SLA_HTTP_PORT,
    TICKET_WORKLOADS,
    all_containers,
    assert_claimed_volume,
    assert_cli_command,
    assert_sla_cli_command,
    assignment_env_names,
    assignment_settings_from,
    compose_env,
    compose_named_volume,
    compose_services,
    compose_topics,
    container_of,
    dockerfile_env,
    docs_of,
    final_stage,
    image_of,
    interpolate,
    kafka_cluster,
    kafka_topics,
    notification_env_names,
    notification_settings_from,
    one_doc,
    plain_listener,
    pod_labels,
    pod_spec,
    resolve_port,
    settings_field,
    settings_from,
    sla_env_names,
    sla_image,
    sla_settings_from,
    ticket_image,
    workloads,
)


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
    settings = sla_settings_from(monkeypatch, {**dockerfile_env(SLA), **env})
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
    settings = assignment_settings_from(monkeypatch, {**dockerfile_env(ASSIGNMENT), **env})
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
    settings = assignment_settings_from(monkeypatch, {**dockerfile_env(ASSIGNMENT), **env})
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
            user = next(i.value for i in reversed(final_stage(image)) if i.keyword == "USER")
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
    settings = notification_settings_from(monkeypatch, {**dockerfile_env(NOTIFICATION), **env})
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
