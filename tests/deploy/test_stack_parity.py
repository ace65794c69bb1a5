"""Across all of it: every image pinned, the deploy README naming every manifest, and every
process of the local stack (tools/devstack/stack.toml) running in compose and on Kubernetes
with the same command, image and health check.

Shared loading and parsing helpers: :mod:`tests.deploy.manifests`.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import pytest

from .manifests import (
    DEPLOY_README,
    IMAGES,
    K8S_DIR,
    ImageRef,
    compose_services,
    container_of,
    depends_on,
    docs_of,
    every_image,
    kustomize_resource_paths,
    pod_spec,
    published_ports,
    resolve_port,
    stack_command,
    stack_processes,
    workload_kind,
)


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
