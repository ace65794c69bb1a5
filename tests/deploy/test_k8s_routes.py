"""deploy/k8s, the public door: the HTTPRoute sends every public path to the API gateway, which
signs with a mounted secret (and compose publishes only it); NetworkPolicies admit to each
service's port only the pods that call it.

Shared loading and parsing helpers: :mod:`tests.deploy.manifests`.
"""

from __future__ import annotations

import json

from api_gateway.domain.routes import RoutingTable
from api_gateway.settings import ROUTES_FILE

from .manifests import (
    GATEWAY_HTTP_PORT,
    all_containers,
    compose_services,
    docs_of,
    one_doc,
    pod_labels,
    pod_spec,
    workloads,
)


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


def _callers(service: str, port: int) -> set[str]:
    """The workloads (by pod name label) whose settings name ``service``'s address."""
    address = f"http://{service}:{port}"
    found = set()
    for workload in workloads():
        for container in all_containers(pod_spec(workload)):
            if any(address in str(e.get("value", "")) for e in container.get("env", [])):
                found.add(pod_labels(workload)["app.kubernetes.io/name"])
    return found


def test_only_the_services_callers_reach_their_ports() -> None:
    """Defense in depth behind the HTTPRoute: each service's HTTP port admits the pods whose
    settings name its address (derived here from the workloads, so a new caller without a
    NetworkPolicy rule fails this test) and no one else; the gateway itself stays open."""
    policies = {d["metadata"]["name"]: d for d in docs_of("NetworkPolicy")}
    for service in docs_of("Service"):
        name = service["metadata"]["name"]
        if name == "api-gateway":
            assert name not in policies, "the gateway is the public door"
            continue
        port = service["spec"]["ports"][0]
        callers = _callers(name, port["port"])
        assert callers, f"nothing calls {name}?"
        spec = policies[name]["spec"]
        assert spec["podSelector"]["matchLabels"] == service["spec"]["selector"]
        assert spec["policyTypes"] == ["Ingress"]
        (rule,) = spec["ingress"]
        assert rule["ports"] == [{"port": port["targetPort"], "protocol": "TCP"}]
        allowed = {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in rule["from"]
        }
        assert all(set(peer) == {"podSelector"} for peer in rule["from"]), (
            "pods of this namespace only"
        )
        assert allowed == callers, (name, allowed, callers)
    assert set(policies) <= {s["metadata"]["name"] for s in docs_of("Service")}
