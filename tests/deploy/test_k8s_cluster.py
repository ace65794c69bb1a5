"""deploy/k8s, the cluster pieces: the kustomization, the Kubernetes schemas, Strimzi's Kafka
(KRaft, topics matching the event contract and the workers' own) and CloudNativePG's PostgreSQL.

Shared loading and parsing helpers: :mod:`tests.deploy.manifests`.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
import yaml

from helpdesk_events.topics import TICKETS, all_topics
from helpdesk_platform.kafka_topics import COMPACTED

from .manifests import (
    _DNS_LABEL,
    _DNS_SUBDOMAIN,
    CUSTOM_KINDS,
    K8S_DIR,
    K8S_VERSIONS,
    POSTGRES_MAJOR,
    PRODUCTION_TICKET_PARTITIONS,
    TICKET_WORKLOADS,
    FaustTopic,
    ImageRef,
    all_containers,
    assignment_worker_topics,
    canonical,
    compose_services,
    docs_of,
    gateway_image,
    k8s_documents,
    kafka_cluster,
    kafka_topics,
    kustomization,
    kustomize_resource_paths,
    notification_image,
    one_doc,
    plain_listener,
    pod_spec,
    pom_kafka_version,
    pool_replicas,
    postgres_cluster,
    sla_worker_topics,
    ticket_image,
    workloads,
)


def test_kustomization_lists_every_manifest() -> None:
    listed = {path.resolve() for path in kustomize_resource_paths()}
    on_disk = {p.resolve() for p in K8S_DIR.rglob("*.yaml") if p.name != "kustomization.yaml"}
    on_disk |= {p.resolve() for p in K8S_DIR.rglob("*.yml")}
    assert listed == on_disk, f"unlisted: {on_disk - listed}, missing: {listed - on_disk}"


def test_kustomization_uses_only_supported_fields() -> None:
    # k8s_documents() renders these fields the way kustomize does; extend it before using more.
    assert set(kustomization()) <= {"apiVersion", "kind", "namespace", "resources"}
    assert kustomization()["namespace"] == "helpdesk"


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


def test_every_object_has_a_unique_valid_name() -> None:
    seen: set[tuple[str, str]] = set()
    for doc in k8s_documents():
        name = doc["metadata"]["name"]
        assert len(name) <= 253 and _DNS_SUBDOMAIN.match(name), name
        if doc["kind"] in ("Service", "Namespace"):
            assert len(name) <= 63 and _DNS_LABEL.match(name), f"{doc['kind']} {name}"
        assert (doc["kind"], name) not in seen, f"duplicate {doc['kind']} {name}"
        seen.add((doc["kind"], name))


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


#: Each worker's own topics, and their partition counts given the tickets topic's (``t``): the
#: SLA worker's ticks and state follow the tickets topic they are joined with; the assignment
#: worker's team requests, ticket facts and team state too, its directory table has the
#: directory topic's one partition; Faust's leader topic has one.
WORKER_TOPICS: dict[str, tuple[Callable[[pytest.MonkeyPatch], dict[str, FaustTopic]], Any]] = {
    "sla-service": (sla_worker_topics, lambda t: [1, t, t]),
    "assignment-service": (assignment_worker_topics, lambda t: [1, 1, t, t, t]),
}


@pytest.mark.parametrize("worker", sorted(WORKER_TOPICS))
def test_worker_topics_are_declared_with_replicas(
    monkeypatch: pytest.MonkeyPatch, worker: str
) -> None:
    # Faust would create these with one replica, which min.insync.replicas=2 and acks=all refuse.
    read_topics, partition_counts = WORKER_TOPICS[worker]
    cluster = kafka_cluster()["metadata"]["name"]
    broker_min_isr = int(kafka_cluster()["spec"]["kafka"]["config"]["min.insync.replicas"])
    topics = kafka_topics()
    faust_topics = read_topics(monkeypatch)
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
    ticket_partitions = topics[TICKETS]["spec"]["partitions"]
    expected = partition_counts(ticket_partitions)
    assert sorted(t.partitions for t in faust_topics.values()) == sorted(expected)


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
