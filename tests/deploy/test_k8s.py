"""Kubernetes manifests: one kustomization per service, rendered and validated offline (R22).

What is checked, and how: tools/k8s_manifests.py renders each overlay (its own subset of kustomize:
resources, namespace, labels, images, strategic-merge patches; there is no kustomize binary here),
and every rendered object is validated against the Kubernetes 1.30 OpenAPI schemas in strict mode
(kubernetes-validate bundles them: nothing is fetched). On top of the schemas, the rules of the
platform: probes, the migration before the web, budgets, autoscalers, network policies, secrets by
reference. What is NOT checked: that a real API server accepts them (admission, CRDs), nor that
`kustomize build` renders them byte for byte as our renderer does.
"""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.30.0"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "clikopro_k8s_manifests", ROOT / "tools" / "k8s_manifests.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


k8s = _load()
SERVICES = k8s.services()


def rendered(name: str) -> list[dict[str, Any]]:
    return k8s.build(ROOT / "deploy" / "k8s" / name / "overlays" / "production")


def by_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def test_the_manifests_are_what_the_generator_makes() -> None:
    assert k8s.stale() == []


def test_every_service_and_the_gateway_has_its_own_overlay() -> None:
    overlays = {p.relative_to(ROOT / "deploy" / "k8s").parts[0] for p in k8s.overlays()}
    assert overlays == {*SERVICES, "gateway", "platform"}
    assert len(SERVICES) >= 7


@pytest.mark.parametrize("overlay", [*SERVICES, "gateway", "platform"])
def test_each_rendered_object_is_valid_for_kubernetes(overlay: str) -> None:
    directory = ROOT / "deploy" / "k8s" / overlay
    resources = k8s.build(directory if overlay == "platform" else directory / "overlays" / "production")
    assert resources
    for resource in resources:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == "clikopro"


def test_a_wrong_field_is_refused_by_the_validation() -> None:
    deployment = copy.deepcopy(by_kind(rendered("missions"), "Deployment")["missions"])
    deployment["spec"]["replica"] = 3  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(by_kind(rendered("missions"), "Deployment")["missions"])
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_deploys_alone_with_its_web_worker_migration_budgets_and_policies(service: str) -> None:
    resources = rendered(service)
    deployments = by_kind(resources, "Deployment")
    assert set(deployments) == {service, f"{service}-worker"}
    web, worker = deployments[service], deployments[f"{service}-worker"]
    image = f"registry.clikopro.fr/clikopro/{service}:0.1.0"  # the overlay pins the release

    pod = web["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == image and pod["initContainers"][0]["image"] == image
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["resources"]["requests"]["cpu"] == "250m"  # the overlay's patch merged by name
    assert f"clikopro_{service.replace('-', '_')}.entrypoints.web:app" in container["args"]
    assert f"clikopro-{service} migrate --check" in " ".join(pod["initContainers"][0]["command"])
    assert web["spec"]["replicas"] == 3 and web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    worker_container = worker["spec"]["template"]["spec"]["containers"][0]
    assert worker_container["args"] == [f"clikopro-{service}", "worker"]
    assert worker_container["livenessProbe"]["httpGet"]["port"] == 9100

    job = by_kind(resources, "Job")[f"{service}-migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == [f"clikopro-{service}", "migrate"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"

    services = by_kind(resources, "Service")
    assert services[service]["spec"]["type"] == "ClusterIP"  # never exposed outside the cluster

    for deployment in (web, worker):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items()
        budgets = [p for p in by_kind(resources, "PodDisruptionBudget").values()
                   if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]  # fmt: skip
        assert len(budgets) == 1
        scalers = [h for h in by_kind(resources, "HorizontalPodAutoscaler").values()
                   if h["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]]  # fmt: skip
        assert len(scalers) == 1 and scalers[0]["spec"]["minReplicas"] >= 2
        # Secrets by reference only.
        for source in deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]:
            assert set(source) <= {"configMapRef", "secretRef"}
    assert "Secret" not in {r["kind"] for r in resources}
    for container in (*pod["containers"], worker_container):
        assert not any("value" in e and "PASSWORD" in e["name"] for e in container.get("env", []))

    policies = by_kind(resources, "NetworkPolicy")
    web_policy = policies[f"{service}-web"]["spec"]
    sources = [peer for rule in web_policy["ingress"] for peer in rule["from"]]
    assert all(rule.get("from") for rule in web_policy["ingress"])  # no rule open to everyone
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "clikopro"}}} in sources
    assert all(
        peer.get("podSelector") == {"matchLabels": {"app.kubernetes.io/part-of": "clikopro"}}
        or peer.get("namespaceSelector") == {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
        for peer in sources
    )
    worker_policy = policies[f"{service}-worker"]["spec"]
    assert [p["port"] for rule in worker_policy["ingress"] for p in rule["ports"]] == [9100]


def test_only_the_gateway_is_reachable_from_outside() -> None:
    gateway = k8s.build(ROOT / "deploy" / "k8s" / "gateway" / "overlays" / "production")
    assert by_kind(gateway, "Service")["gateway"]["spec"]["type"] == "LoadBalancer"
    open_rules = [
        r for r in by_kind(gateway, "NetworkPolicy")["gateway"]["spec"]["ingress"] if "from" not in r
    ]
    assert [p["port"] for r in open_rules for p in r["ports"]] == [8080]
    upstreams = by_kind(gateway, "ConfigMap")["gateway-upstreams"]["data"]
    assert upstreams["TRUST_SAFETY_URL"] == "http://trust-safety:8000"
    platform = k8s.build(ROOT / "deploy" / "k8s" / "platform")
    deny = by_kind(platform, "NetworkPolicy")["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_migrate_check_says_whether_the_database_is_at_the_latest_revision(tmp_path: Path) -> None:
    # What the web pods' init container runs before the web starts.
    env = {"PATH": str(Path(sys.executable).parent), "DATABASE_URL": f"sqlite:///{tmp_path}/r.sqlite3",
           "BROKER_URL": "memory://", "DATA_DIR": str(tmp_path)}  # fmt: skip
    command = [str(Path(sys.executable).parent / "clikopro-reputation"), "migrate"]
    before = subprocess.run([*command, "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert before.returncode == 1 and "NOT at" in before.stdout
    assert subprocess.run([*command, "--no-broker"], env=env, capture_output=True, timeout=60).returncode == 0
    after = subprocess.run([*command, "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert after.returncode == 0, after.stdout + after.stderr
