"""Kubernetes manifests of every service and the gateway, one kustomization each (R22).

    python tools/k8s_manifests.py           exit 1 if deploy/k8s differs from what this generates
    python tools/k8s_manifests.py --write   (re)write deploy/k8s
    python tools/k8s_manifests.py --build deploy/k8s/missions/overlays/production
                                            print the rendered manifests (a subset of `kustomize build`)

Each service is deployed alone: ``deploy/k8s/<service>/base`` holds its web Deployment (probes on
/health and /ready; an init container waits until the database is at the latest revision), its
worker Deployment, its Service, the migration Job that runs before the web rolls, a
PodDisruptionBudget and a HorizontalPodAutoscaler per Deployment, and its NetworkPolicy;
``overlays/production`` pins the image and sizes it. ``deploy/k8s/platform`` is applied once per
namespace (default-deny ingress, the shared settings). Secrets are referenced, never written here.

There is no kustomize binary here, so :func:`build` renders a kustomization itself: resources
(recursively), ``namespace``, ``labels``, ``images`` and strategic-merge ``patches`` on
Deployments (containers merged by name). That is the subset these files use; tests/deploy check
the result against the Kubernetes schemas (kubernetes-validate, offline).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
NAMESPACE = "clikopro"
PART_OF = "clikopro"
IMAGE = "registry.clikopro.fr/clikopro"
WEB_PORT = 8000
WORKER_METRICS_PORT = 9100
GATEWAY_PORT = 8080
MONITORING_NAMESPACE = "monitoring"
#: Services whose settings include Stripe's (their Secret holds the keys).
STRIPE = {"payments", "subscriptions"}


def services(root: Path = ROOT) -> list[str]:
    """Every service project under services/ (a new one gets its manifests from --write)."""
    return sorted(p.parent.name for p in (root / "services").glob("*/pyproject.toml"))


def _labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
    }


def _security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _env_from(name: str) -> list[dict[str, Any]]:
    # Secrets by reference: created by the platform team (or External Secrets), never in git.
    return [
        {"configMapRef": {"name": "clikopro-common"}},
        {"secretRef": {"name": "clikopro-bus"}},  # BROKER_URL, INTERNAL_API_TOKEN
        {"secretRef": {"name": f"{name}-secrets"}},  # DATABASE_URL (+ Stripe keys, passphrase...)
    ]


def _tmp_volumes() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes = [
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {"name": "prometheus", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
    ]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "prometheus", "mountPath": "/tmp/prometheus"}]
    return volumes, mounts


def _resources(cpu: str, memory: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}


def _image(name: str) -> str:
    return f"{IMAGE}/{name}:latest"


def _deployment(name: str, component: str, container: dict[str, Any], **pod: Any) -> dict[str, Any]:
    labels = _labels(name, component)
    volumes, mounts = _tmp_volumes()
    metrics_port = WORKER_METRICS_PORT if component == "worker" else pod.pop("metrics_port", WEB_PORT)
    container = {
        "image": _image(name),
        "imagePullPolicy": "IfNotPresent",
        "securityContext": _security(),
        "volumeMounts": mounts,
        **container,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{name}-{component}" if component != "web" else name, "labels": labels},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {k: labels[k] for k in list(labels)[:2]}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(metrics_port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": _pod_security(),
                    # Longer than gunicorn's --graceful-timeout (30 s) and a worker's batch.
                    "terminationGracePeriodSeconds": 45,
                    **pod,
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def _http_probe(path: str, port: int, **extra: Any) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "timeoutSeconds": 3, **extra}


def web(name: str) -> dict[str, Any]:
    module = f"clikopro_{name.replace('-', '_')}"
    _, mounts = _tmp_volumes()
    wait_for_schema = {
        # The migration Job of this release runs first; the new pods wait until it is done, the old
        # ones keep serving meanwhile (additive migrations: an old pod works on the new schema).
        "name": "wait-for-migration",
        "image": _image(name),
        "command": ["sh", "-c", f"until clikopro-{name} migrate --check; do sleep 3; done"],
        "envFrom": _env_from(name),
        "securityContext": _security(),
        "volumeMounts": mounts,
        "resources": _resources("50m", "128Mi", "256Mi"),
    }
    container = {
        "name": "web",
        "args": [
            "gunicorn",
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            "--bind",
            f"0.0.0.0:{WEB_PORT}",
            "--graceful-timeout",
            "30",
            "--keep-alive",
            "75",
            "--worker-tmp-dir",
            "/dev/shm",
            f"{module}.entrypoints.web:app",
        ],
        "ports": [{"name": "http", "containerPort": WEB_PORT}],
        "envFrom": _env_from(name),
        "env": [{"name": "PROMETHEUS_MULTIPROC_DIR", "value": "/tmp/prometheus"}],
        "startupProbe": _http_probe("/health", WEB_PORT, periodSeconds=2, failureThreshold=30),
        "livenessProbe": _http_probe("/health", WEB_PORT, periodSeconds=10, failureThreshold=3),
        "readinessProbe": _http_probe("/ready", WEB_PORT, periodSeconds=5, failureThreshold=2),
        "resources": _resources("100m", "256Mi", "512Mi"),
    }
    return _deployment(name, "web", container, initContainers=[wait_for_schema])


def worker(name: str) -> dict[str, Any]:
    container = {
        "name": "worker",
        "args": [f"clikopro-{name}", "worker"],
        "ports": [{"name": "metrics", "containerPort": WORKER_METRICS_PORT}],
        "envFrom": _env_from(name),
        "env": [{"name": "WORKER_METRICS_PORT", "value": str(WORKER_METRICS_PORT)}],
        "livenessProbe": _http_probe("/metrics", WORKER_METRICS_PORT, periodSeconds=15, failureThreshold=4),
        "resources": _resources("100m", "256Mi", "512Mi"),
    }
    return _deployment(name, "worker", container)


def migrate_job(name: str) -> dict[str, Any]:
    labels = _labels(name, "migrate")
    _, mounts = _tmp_volumes()
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{name}-migrate",
            "labels": labels,
            "annotations": {
                # Argo CD runs it before syncing the Deployments, and replaces the previous one
                # (a Job's template cannot change in place). With plain kubectl: delete, then apply.
                "argocd.argoproj.io/hook": "PreSync",
                "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
            },
        },
        "spec": {
            "backoffLimit": 3,
            "activeDeadlineSeconds": 900,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": _pod_security(),
                    "containers": [
                        {
                            "name": "migrate",
                            "image": _image(name),
                            # Alembic upgrade, then the queue and its bindings declared.
                            "args": [f"clikopro-{name}", "migrate"],
                            "envFrom": _env_from(name),
                            "securityContext": _security(),
                            "volumeMounts": mounts,
                            "resources": _resources("100m", "128Mi", "512Mi"),
                        }
                    ],
                    "volumes": _tmp_volumes()[0],
                },
            },
        },
    }


def service(name: str, port: int = WEB_PORT) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": _labels(name, "web")},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "web"},
            "ports": [{"name": "http", "port": 8000 if port == WEB_PORT else port, "targetPort": "http"}],
        },
    }


def pdb(name: str, component: str) -> dict[str, Any]:
    deployment = name if component == "web" else f"{name}-{component}"
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": deployment, "labels": _labels(name, component)},
        "spec": {
            "maxUnavailable": 1,
            "selector": {
                "matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}
            },
        },
    }


def hpa(name: str, component: str, max_replicas: int) -> dict[str, Any]:
    deployment = name if component == "web" else f"{name}-{component}"
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": deployment, "labels": _labels(name, component)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
            "minReplicas": 2,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def _from_platform() -> dict[str, Any]:
    """The gateway and every service (same namespace, part of clikopro)."""
    return {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": PART_OF}}}


def _from_monitoring() -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}


def network_policies(name: str) -> list[dict[str, Any]]:
    web_policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-web", "labels": _labels(name, "web")},
        "spec": {
            "podSelector": {
                "matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "web"}
            },
            "policyTypes": ["Ingress"],
            # The gateway and the other services (internal routes); Prometheus for /metrics.
            # Nothing else: the services are never reachable from outside the cluster.
            "ingress": [
                {"from": [_from_platform()], "ports": [{"protocol": "TCP", "port": WEB_PORT}]},
                {"from": [_from_monitoring()], "ports": [{"protocol": "TCP", "port": WEB_PORT}]},
            ],
        },
    }
    worker_policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-worker", "labels": _labels(name, "worker")},
        "spec": {
            "podSelector": {
                "matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "worker"}
            },
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [_from_monitoring()], "ports": [{"protocol": "TCP", "port": WORKER_METRICS_PORT}]}
            ],
        },
    }
    return [web_policy, worker_policy]


def kustomization(resources: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        **extra,
        "resources": resources,
    }


def overlay(name: str, web_replicas: int = 3) -> dict[str, Any]:
    deployment = name
    return kustomization(
        ["../../base"],
        namespace=NAMESPACE,
        labels=[{"pairs": {"app.kubernetes.io/instance": f"{name}-production"}, "includeSelectors": False}],
        images=[{"name": f"{IMAGE}/{name}", "newTag": "0.1.0"}],
        patches=[
            {
                "target": {"kind": "Deployment", "name": deployment},
                "patch": yaml.safe_dump(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "metadata": {"name": deployment},
                        "spec": {
                            "replicas": web_replicas,
                            "template": {
                                "spec": {
                                    "containers": [
                                        {
                                            "name": "web",
                                            "resources": _resources("250m", "384Mi", "768Mi"),
                                            "env": [{"name": "WEB_CONCURRENCY", "value": "3"}],
                                        }
                                    ]
                                }
                            },
                        },
                    },
                    sort_keys=False,
                ),
            }
        ],
    )


def gateway_files() -> dict[str, Any]:
    name = "gateway"
    container = {
        "name": "web",
        "args": [
            "gunicorn",
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            "--bind",
            f"0.0.0.0:{GATEWAY_PORT}",
            "--graceful-timeout",
            "30",
            "--keep-alive",
            "75",
            "--worker-tmp-dir",
            "/dev/shm",
            "clikopro_gateway.entrypoints.web:app",
        ],
        "ports": [{"name": "http", "containerPort": GATEWAY_PORT}],
        "envFrom": [
            {"configMapRef": {"name": "clikopro-common"}},
            {"configMapRef": {"name": "gateway-upstreams"}},
            {"secretRef": {"name": "clikopro-bus"}},
            {"secretRef": {"name": "gateway-secrets"}},  # REDIS_URL
        ],
        "env": [{"name": "PROMETHEUS_MULTIPROC_DIR", "value": "/tmp/prometheus"}],
        "startupProbe": _http_probe("/health", GATEWAY_PORT, periodSeconds=2, failureThreshold=30),
        "livenessProbe": _http_probe("/health", GATEWAY_PORT, periodSeconds=10, failureThreshold=3),
        "readinessProbe": _http_probe("/ready", GATEWAY_PORT, periodSeconds=5, failureThreshold=2),
        "resources": _resources("200m", "256Mi", "512Mi"),
    }
    deployment = _deployment(name, "web", container, metrics_port=GATEWAY_PORT)
    upstreams = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "gateway-upstreams", "labels": _labels(name, "web")},
        "data": {f"{s.upper().replace('-', '_')}_URL": f"http://{s}:8000" for s in services()},
    }
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": _labels(name, "web")},
        "spec": {
            # The one entry point from outside (behind the cloud load balancer, TLS there).
            "type": "LoadBalancer",
            "selector": {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "gateway", "labels": _labels(name, "web")},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "policyTypes": ["Ingress"],
            # From anywhere on its public port only; its admin/metrics port from monitoring.
            "ingress": [
                {"ports": [{"protocol": "TCP", "port": GATEWAY_PORT}]},
                {"from": [_from_monitoring()]},
            ],
        },
    }
    files = {
        "base/deployment.yaml": deployment,
        "base/configmap.yaml": upstreams,
        "base/service.yaml": svc,
        "base/pdb.yaml": pdb(name, "web"),
        "base/hpa.yaml": hpa(name, "web", 10),
        "base/networkpolicy.yaml": policy,
    }
    files["base/kustomization.yaml"] = kustomization(sorted(k.removeprefix("base/") for k in files))
    files["overlays/production/kustomization.yaml"] = kustomization(
        ["../../base"], namespace=NAMESPACE, images=[{"name": f"{IMAGE}/{name}", "newTag": "0.1.0"}]
    )
    return files


def platform_files() -> dict[str, Any]:
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-ingress"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    common = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "clikopro-common"},
        "data": {
            "BUS_PREFIX": "clikopro",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "JWKS_URL": "http://identity:8000/.well-known/jwks.json",
            # OTLP traces: set the collector's address to export (off when empty).
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        },
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    return {
        "namespace.yaml": namespace,
        "default-deny-ingress.yaml": deny,
        "configmap.yaml": common,
        "kustomization.yaml": kustomization(
            ["namespace.yaml", "default-deny-ingress.yaml", "configmap.yaml"], namespace=NAMESPACE
        ),
    }


def service_files(name: str) -> dict[str, Any]:
    web_policy, worker_policy = network_policies(name)
    files: dict[str, Any] = {
        "base/web-deployment.yaml": web(name),
        "base/worker-deployment.yaml": worker(name),
        "base/service.yaml": service(name),
        "base/migrate-job.yaml": migrate_job(name),
        "base/pdb.yaml": [pdb(name, "web"), pdb(name, "worker")],
        "base/hpa.yaml": [hpa(name, "web", 8), hpa(name, "worker", 6)],
        "base/networkpolicy.yaml": [web_policy, worker_policy],
    }
    files["base/kustomization.yaml"] = kustomization(sorted(k.removeprefix("base/") for k in files))
    files["overlays/production/kustomization.yaml"] = overlay(name)
    return files


class _Dumper(yaml.SafeDumper):
    """No anchors and aliases: each manifest reads on its own."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


HEADER = "# GENERATED by tools/k8s_manifests.py --write: edit the generator, not this file.\n"


def _dump(content: Any) -> str:
    documents = content if isinstance(content, list) else [content]
    return HEADER + "---\n".join(yaml.dump(d, Dumper=_Dumper, sort_keys=False, width=110) for d in documents)


def tree(root: Path = ROOT) -> dict[Path, str]:
    """Every generated file under deploy/k8s, with its text."""
    out: dict[Path, str] = {}
    for relative, content in platform_files().items():
        out[Path("platform") / relative] = _dump(content)
    for relative, content in gateway_files().items():
        out[Path("gateway") / relative] = _dump(content)
    for name in services(root):
        for relative, content in service_files(name).items():
            out[Path(name) / relative] = _dump(content)
    return out


def stale(root: Path = ROOT) -> list[str]:
    k8s = root / "deploy" / "k8s"
    wanted = tree(root)
    problems = [
        str(p) for p, text in wanted.items() if not (k8s / p).exists() or (k8s / p).read_text() != text
    ]
    present = {p.relative_to(k8s) for p in k8s.rglob("*.yaml")} if k8s.exists() else set()
    problems += [f"{p} (not generated)" for p in sorted(present - set(wanted))]
    return problems


# --------------------------------------------------------------------------- rendering (kustomize subset)


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as kustomize does it for the fields used here: maps merge, lists of named
    items (containers, env) merge by name, other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(i, dict) and "name" in i for i in patch)
    ) and all(isinstance(i, dict) and "name" in i for i in base):
        merged_list = [copy.deepcopy(i) for i in base]
        for item in patch:
            match = next((i for i, b in enumerate(merged_list) if b["name"] == item["name"]), None)
            if match is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[match] = _merge(merged_list[match], item)
        return merged_list
    return copy.deepcopy(patch)


def _load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def build(directory: Path) -> list[dict[str, Any]]:
    """The resources a kustomization renders (the subset of ``kustomize build`` described above)."""
    config = _load(directory / "kustomization.yaml")[0]
    known = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
    unknown = set(config) - known
    if unknown:
        raise ValueError(f"{directory}: kustomize fields this renderer does not know: {sorted(unknown)}")
    resources: list[dict[str, Any]] = []
    for entry in config.get("resources", []):
        target = directory / entry
        resources += build(target) if target.is_dir() else _load(target)
    for patch in config.get("patches", []):
        body = yaml.safe_load(patch["patch"]) if "patch" in patch else _load(directory / patch["path"])[0]
        selector = patch.get("target") or {"kind": body["kind"], "name": body["metadata"]["name"]}
        hits = [
            i
            for i, r in enumerate(resources)
            if r["kind"] == selector["kind"] and r["metadata"]["name"] == selector["name"]
        ]
        if not hits:
            raise ValueError(f"{directory}: patch matches nothing: {selector}")
        for i in hits:
            resources[i] = _merge(resources[i], body)
    for resource in resources:
        if config.get("namespace") and resource["kind"] != "Namespace":
            resource["metadata"]["namespace"] = config["namespace"]
        for label in config.get("labels", []):
            resource["metadata"].setdefault("labels", {}).update(label["pairs"])
            template = resource.get("spec", {}).get("template")
            if template is not None:
                template.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
        for image in config.get("images", []):
            for pod in _pod_specs(resource):
                for container in pod.get("containers", []) + pod.get("initContainers", []):
                    name, _, _tag = container["image"].rpartition(":")
                    if name == image["name"]:
                        container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
    return resources


def _pod_specs(resource: dict[str, Any]) -> list[dict[str, Any]]:
    template = resource.get("spec", {}).get("template")
    return [template["spec"]] if template and "spec" in template else []


def overlays(root: Path = ROOT) -> list[Path]:
    k8s = root / "deploy" / "k8s"
    return [*sorted(p.parent for p in k8s.glob("*/overlays/*/kustomization.yaml")), k8s / "platform"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--build", type=Path)
    args = parser.parse_args(argv)
    if args.build:
        print("---\n".join(yaml.safe_dump(r, sort_keys=False) for r in build(args.build)))
        return 0
    if args.write:
        for relative, text in tree().items():
            path = K8S / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return 0
    problems = stale()
    for problem in problems:
        print(f"deploy/k8s/{problem} differs from tools/k8s_manifests.py: run it with --write")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
