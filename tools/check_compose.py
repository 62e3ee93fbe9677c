"""Structural checks of the container deployment, run by ``make test`` (tests/deploy).

Reads docker-compose.yml, the Dockerfile, .dockerignore, deploy/postgres and
deploy/rabbitmq, and checks them against the code, so that what would otherwise
be found only by ``docker compose up`` (a service without its worker, a
DATABASE_URL naming another service's database, a Dockerfile that does not
copy the chassis, a gunicorn module that does not exist...) fails a test.

    python tools/check_compose.py      print the problems; exit 1 if any

Every image is built from the one ``Dockerfile`` at the root, the ``SERVICE`` build argument
naming the service (the gateway also sets ``PROJECT_DIR`` and ``PORT``); gunicorn's settings and
the app it serves come from ``clikopro_chassis.web.gunicorn_conf``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = "docker-compose.yml"
DOCKERFILE = "Dockerfile"
GUNICORN_CONF = "python:clikopro_chassis.web.gunicorn_conf"
POSTGRES_INIT = "deploy/postgres/initdb.d/10-service-databases.sh"
RABBITMQ_DIR = "deploy/rabbitmq"
RABBITMQ_RENDERER = f"{RABBITMQ_DIR}/render-definitions.sh"
RABBITMQ_CONF = f"{RABBITMQ_DIR}/rabbitmq.conf"
GATEWAY_ROUTES = "gateway/src/clikopro_gateway/routes.py"
#: The shared packages every image installs from the repository.
SHARED_PROJECTS = ("shared/contracts", "shared/chassis", "shared/textguard")
CHASSIS_CONFIG = "shared/chassis/src/clikopro_chassis/config.py"
SERVICE_PORT = 8000
GATEWAY_PORT = 8080
INFRASTRUCTURE = ("postgres", "rabbitmq")
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


# --------------------------------------------------------------------------- the projects


@dataclass(frozen=True)
class Project:
    """An installable project shipped as an image: a service, or the gateway."""

    name: str  # its web process in compose: identity, trust-safety, gateway
    path: str  # services/identity
    dist: str  # clikopro-identity, also the console script of a service
    package: str  # clikopro_identity
    port: int  # where its web process listens in its container

    @property
    def is_service(self) -> bool:
        return self.path.startswith("services/")

    @property
    def dockerfile(self) -> str:
        return DOCKERFILE

    @property
    def build_args(self) -> dict[str, str]:
        """What compose passes to the Dockerfile to build this project's image."""
        if self.is_service:
            return {"SERVICE": self.name}
        return {"SERVICE": self.name, "PROJECT_DIR": self.path, "PORT": str(self.port)}

    @property
    def database(self) -> str:
        """Its database, and the role that owns it."""
        return self.name.replace("-", "_")

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_")

    @property
    def web_module(self) -> str:
        return f"{self.package}.entrypoints.web"


def discover_projects(root: Path) -> list[Project]:
    found = []
    for pyproject in [*sorted(root.glob("services/*/pyproject.toml")), root / "gateway" / "pyproject.toml"]:
        directory = pyproject.parent
        dist = tomllib.loads(pyproject.read_text())["project"]["name"]
        package = dist.replace("-", "_")
        path = directory.relative_to(root).as_posix()
        is_service = path.startswith("services/")
        found.append(
            Project(
                name=directory.name,
                path=path,
                dist=dist,
                package=package,
                port=SERVICE_PORT if is_service else GATEWAY_PORT,
            )
        )
    return found


# --------------------------------------------------------------------------- what is checked


@dataclass
class Deployment:
    root: Path
    compose: dict[str, Any]
    projects: list[Project]
    #: Path -> text replacing the file's (the tests break the deployment without touching files).
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> dict[str, Any]:
        return self.compose.get("services") or {}

    @property
    def service_projects(self) -> list[Project]:
        return [p for p in self.projects if p.is_service]

    def text(self, rel: str) -> str | None:
        if rel in self.overrides:
            return self.overrides[rel]
        path = self.root / rel
        return path.read_text() if path.is_file() else None

    def exists(self, rel: str) -> bool:
        return rel in self.overrides or (self.root / rel).exists()


def load(root: Path = ROOT) -> Deployment:
    raw = yaml.safe_load((root / COMPOSE_FILE).read_text())
    # Through JSON: anchors become separate copies, so that changing one service changes no other.
    compose = json.loads(json.dumps(raw))
    return Deployment(root=root, compose=compose, projects=discover_projects(root))


Check = Callable[[Deployment], Iterator[str]]
CHECKS: dict[str, Check] = {}


def check(function: Check) -> Check:
    CHECKS[function.__name__.removeprefix("check_")] = function
    return function


# --------------------------------------------------------------------------- compose helpers

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)


def interpolate(value: str, env: Mapping[str, str] | None = None) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` and ``$$``, taken from ``env``."""
    env = env or {}

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        value = env.get(name)
        if op == ":-":
            return value if value else arg
        if op == "-":
            return arg if value is None else value
        if op == ":+":
            return arg if value else ""
        if op == "+":
            return "" if value is None else arg
        return value or ""

    return _VARIABLE.sub(replace, value)


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a YAML document, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def dependencies(service: Mapping[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def command(service: Mapping[str, Any]) -> list[str] | None:
    value = service.get("command")
    if value is None:
        return None
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


def healthcheck_disabled(service: Mapping[str, Any]) -> bool:
    health = service.get("healthcheck") or {}
    test = health.get("test")
    return bool(health.get("disable")) or test == ["NONE"] or test == "NONE"


def bind_mounts(service: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(source relative to the repository, target) of each bind mount."""
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                yield _relative(volume["source"]), volume["target"]
            continue
        source, _, rest = volume.partition(":")
        if source.startswith((".", "/", "~")):
            yield _relative(source), rest.split(":")[0]


def named_volumes(service: Mapping[str, Any]) -> Iterator[str]:
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "volume" and volume.get("source"):
                yield volume["source"]
            continue
        source, sep, _ = volume.partition(":")
        if sep and not source.startswith((".", "/", "~")):
            yield source


def _relative(source: str) -> str:
    return PurePosixPath(source.removeprefix("./")).as_posix()


def published_ports(service: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(published, target) of each port, defaults interpolated."""
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            yield interpolate(str(port.get("published", ""))), str(port.get("target"))
            continue
        parts = interpolate(str(port)).split("/")[0].split(":")
        yield (parts[-2] if len(parts) > 1 else ""), parts[-1]


def roles(project: Project) -> dict[str, list[str] | None]:
    """The compose services of a project and their command (None: the image's, its web process)."""
    if not project.is_service:
        return {project.name: None}
    return {
        project.name: None,
        f"{project.name}-worker": [project.dist, "worker"],
        f"{project.name}-migrate": [project.dist, "migrate"],
    }


# --------------------------------------------------------------------------- Dockerfile helpers


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def parse_dockerfile(text: str) -> list[Instruction]:
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        if whole:
            keyword, _, arguments = whole.partition(" ")
            instructions.append(Instruction(keyword.upper(), arguments.strip()))
    return instructions


def exec_form(instruction: Instruction) -> list[str] | None:
    try:
        value = json.loads(instruction.arguments)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def defines_app(source: str) -> bool:
    """Whether a module assigns ``app`` at its top level."""
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "app" for t in targets):
            return True
    return False


def image_port(deployment: Deployment, project: Project) -> int | None:
    """Where the project's image listens: its compose build's PORT argument, else the Dockerfile's
    default (gunicorn_conf binds CLIKOPRO_PORT, which the Dockerfile sets from PORT)."""
    build = (deployment.services.get(project.name) or {}).get("build")
    args = (build.get("args") or {}) if isinstance(build, dict) else {}
    if "PORT" in args:
        return int(args["PORT"])
    text = deployment.text(DOCKERFILE) or ""
    defaults = [i.arguments.partition("=")[2] for i in parse_dockerfile(text) if i.keyword == "ARG"
                and i.arguments.startswith("PORT=")]  # fmt: skip
    return int(defaults[-1]) if defaults else None


# --------------------------------------------------------------------------- the checks


def duplicate_keys(text: str) -> Iterator[str]:
    """Keys given twice in one mapping. PyYAML takes them (the last wins, and two ``<<`` merge
    keys both merge) where docker compose refuses the file: checked on the node graph, before
    PyYAML resolves anything."""
    seen_nodes: set[int] = set()
    stack = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value in keys:
                        yield f"line {line}: key {key.value!r} already given on line {keys[key.value]}"
                    keys.setdefault(key.value, line)
                stack += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value


@check
def check_yaml(deployment: Deployment) -> Iterator[str]:
    """The file is YAML that docker compose reads as PyYAML does: no key twice in a mapping."""
    for problem in duplicate_keys(deployment.text(COMPOSE_FILE) or ""):
        yield f"{COMPOSE_FILE}: {problem} (merge several anchors with <<: [*a, *b])"


@check
def check_roles(deployment: Deployment) -> Iterator[str]:
    """Every service has its web, worker and migrate entries; the gateway its own."""
    services = deployment.services
    for project in deployment.projects:
        for name, expected in roles(project).items():
            service = services.get(name)
            if service is None:
                yield f"{project.path} has no compose service {name!r}"
                continue
            actual = command(service)
            if expected is None and actual is not None and actual[:1] != ["gunicorn"]:
                yield f"{name}: its command {actual} is not the image's web process"
            if expected is not None and actual != expected:
                yield f"{name}: command is {actual}, expected {expected}"
            if "container_name" in service:
                yield f"{name}: container_name forbids `docker compose up --scale`"
        migrate = services.get(f"{project.name}-migrate")
        if project.is_service and migrate is not None and migrate.get("restart") != "no":
            restart = migrate.get("restart")
            yield f'{project.name}-migrate: a one-shot needs restart: "no" (quoted), not {restart!r}'


@check
def check_images(deployment: Deployment) -> Iterator[str]:
    """Each project's containers are built from the one Dockerfile, from the repository root, with
    the build arguments that name the project."""
    for project in deployment.projects:
        images = set()
        for name in roles(project):
            service = deployment.services.get(name)
            if service is None:
                continue
            build = service.get("build")
            if not isinstance(build, dict):
                yield f"{name}: needs build: {{context: ., dockerfile: {project.dockerfile}}}"
                continue
            context = (deployment.root / build.get("context", ".")).resolve()
            if context != deployment.root.resolve():
                yield f"{name}: build context must be the repository root, not {build.get('context')!r}"
            dockerfile = build.get("dockerfile", "Dockerfile")
            if dockerfile != project.dockerfile:
                yield f"{name}: builds {dockerfile!r}, expected {project.dockerfile!r}"
            if not deployment.exists(dockerfile):
                yield f"{name}: its Dockerfile {dockerfile!r} does not exist"
            args = {k: str(v) for k, v in (build.get("args") or {}).items()}
            if args != project.build_args:
                yield f"{name}: build args {args}, expected {project.build_args}"
            images.add(service.get("image"))
        if len(images) > 1:
            yield f"{project.name}: its containers should share one image tag, not {sorted(map(str, images))}"


@check
def check_dependencies(deployment: Deployment) -> Iterator[str]:
    """depends_on names existing services, with conditions they can meet, in the right order."""
    services = deployment.services
    for name, service in services.items():
        for target, condition in dependencies(service).items():
            if target not in services:
                yield f"{name}: depends on {target!r}, which is not a service"
                continue
            if condition not in CONDITIONS:
                yield f"{name}: unknown condition {condition!r} on {target!r}"
            if condition == "service_healthy" and not _has_healthcheck(deployment, target):
                yield f"{name}: waits for {target!r} to be healthy, but {target!r} has no healthcheck"
            if condition == "service_completed_successfully" and services[target].get("restart") != "no":
                yield f"{name}: waits for {target!r} to complete, but {target!r} restarts"
    for project in deployment.service_projects:
        infra = {infra: "service_healthy" for infra in INFRASTRUCTURE}
        wanted = {
            project.name: {**infra, f"{project.name}-migrate": "service_completed_successfully"},
            f"{project.name}-worker": {**infra, f"{project.name}-migrate": "service_completed_successfully"},
            f"{project.name}-migrate": infra,
        }
        for name, needed in wanted.items():
            if name not in services:
                continue
            actual = dependencies(services[name])
            for target, condition in needed.items():
                if actual.get(target) != condition:
                    yield f"{name}: should depend on {target!r} with {condition}, has {actual.get(target)}"
    gateway = services.get("gateway")
    if gateway is not None:
        actual = dependencies(gateway)
        for project in deployment.service_projects:
            if actual.get(project.name) != "service_healthy":
                yield f"gateway: should depend on {project.name!r} being healthy"
    yield from _cycles(services)


def _has_healthcheck(deployment: Deployment, name: str) -> bool:
    service = deployment.services[name]
    if healthcheck_disabled(service):
        return False
    if (service.get("healthcheck") or {}).get("test"):
        return True
    build = service.get("build")
    dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else None
    text = deployment.text(dockerfile) if dockerfile else None
    return bool(text) and any(i.keyword == "HEALTHCHECK" for i in parse_dockerfile(text))


def _cycles(services: Mapping[str, Any]) -> Iterator[str]:
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(name: str, trail: list[str]) -> Iterator[str]:
        state[name] = 1
        for target in dependencies(services.get(name) or {}):
            if state.get(target) == 1:
                yield "depends_on cycle: " + " -> ".join([*trail, name, target])
            elif state.get(target) is None and target in services:
                yield from visit(target, [*trail, name])
        state[name] = 2

    for name in services:
        if name not in state:
            yield from visit(name, [])


@check
def check_environment(deployment: Deployment) -> Iterator[str]:
    """Each service's processes reach its own database with its own role, and the broker."""
    services = deployment.services
    for project in deployment.service_projects:
        urls: dict[str, set[str]] = {"DATABASE_URL": set(), "BROKER_URL": set()}
        for name in roles(project):
            if name not in services:
                continue
            env = environment(services[name])
            for key in urls:
                if not env.get(key):
                    yield f"{name}: no {key}"
                else:
                    urls[key].add(env[key])
            if env.get("DATABASE_URL"):
                url = urlsplit(interpolate(env["DATABASE_URL"]))
                database = url.path.lstrip("/")
                if url.scheme not in ("postgresql", "postgresql+psycopg"):
                    yield f"{name}: DATABASE_URL is not PostgreSQL ({url.scheme}://)"
                if (url.hostname, url.port or 5432) != ("postgres", 5432):
                    yield f"{name}: DATABASE_URL points at {url.hostname}:{url.port}, not postgres:5432"
                if database != project.database:
                    yield f"{name}: DATABASE_URL names database {database!r}, not {project.database!r}"
                if url.username != project.database:
                    yield f"{name}: DATABASE_URL logs in as {url.username!r}, not {project.database!r}"
            if env.get("BROKER_URL"):
                url = urlsplit(interpolate(env["BROKER_URL"]))
                if url.scheme != "amqp" or url.hostname != "rabbitmq":
                    yield f"{name}: BROKER_URL should be amqp://...@rabbitmq:5672/..., is {url.scheme}://{url.hostname}"
        for key, values in urls.items():
            if len(values) > 1:
                yield f"{project.name}: its processes disagree on {key}: {sorted(values)}"
        worker = services.get(f"{project.name}-worker")
        if worker is not None:
            port = environment(worker).get("WORKER_METRICS_PORT", "0")
            test = " ".join(map(str, (worker.get("healthcheck") or {}).get("test") or []))
            if not port.isdigit() or int(port) == 0:
                yield f"{project.name}-worker: WORKER_METRICS_PORT must be set for its healthcheck"
            elif f":{port}/" not in test:
                yield f"{project.name}-worker: its healthcheck should probe its metrics port {port}"


@check
def check_settings(deployment: Deployment) -> Iterator[str]:
    """A setting whose default is the local run's address (127.0.0.1) is set in every container."""
    chassis = _local_defaults(deployment.text(CHASSIS_CONFIG) or "")
    for project in deployment.projects:
        settings = f"{project.path}/src/{project.package}/settings.py"
        local = {
            **(chassis if project.is_service else {}),
            **_local_defaults(deployment.text(settings) or ""),
        }
        for name in roles(project):
            if name not in deployment.services:
                continue
            env = environment(deployment.services[name])
            for variable, default in local.items():
                value = interpolate(env.get(variable, ""))
                host = urlsplit(value).hostname if "://" in value else None
                if not value:
                    yield f"{name}: {variable} must be set (its default {default!r} is the local run's)"
                elif host is not None and host not in deployment.services:
                    yield f"{name}: {variable} points at {host!r}, which is not a service"


def _local_defaults(source: str) -> dict[str, str]:
    """Settings defaulting to a local address, by variable name: ``field: str = "http://127.0.0.1..."``
    (chassis and service settings) or ``env.get("VARIABLE", "http://127.0.0.1...")`` (gateway)."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        name, default = None, None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, default = node.target.id.upper(), node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
        ):
            name, default = str(node.args[0].value), node.args[1]
        if (
            name
            and isinstance(default, ast.Constant)
            and isinstance(default.value, str)
            and re.search(r"\b(127\.0\.0\.1|localhost)\b", default.value)
        ):
            found[name] = default.value
    return found


@check
def check_gateway(deployment: Deployment) -> Iterator[str]:
    """The gateway knows every service at the right address and is published on 8080."""
    gateway = deployment.services.get("gateway")
    if gateway is None:
        yield "no gateway service"
        return
    env = environment(gateway)
    known = _gateway_upstreams(deployment)
    names = {p.name for p in deployment.service_projects}
    if known is not None and set(known) != names:
        yield f"{GATEWAY_ROUTES} routes to {sorted(known)}, services/ holds {sorted(names)}"
    for project in deployment.service_projects:
        key = f"{project.env_prefix}_URL"
        port = image_port(deployment, project)
        expected = f"http://{project.name}:{port or project.port}"
        if interpolate(env.get(key, "")).rstrip("/") != expected:
            yield f"gateway: {key} is {env.get(key)!r}, expected {expected!r}"
        if project.name not in deployment.services:
            yield f"gateway: {key} names {project.name!r}, which is not a service"
    if ("8080", "8080") not in set(published_ports(gateway)):
        yield f"gateway: should publish 8080:8080 (API.md), publishes {list(published_ports(gateway))}"
    port = image_port(deployment, _project(deployment, "gateway"))
    if port != GATEWAY_PORT:
        yield f"gateway: its image listens on {port}, not {GATEWAY_PORT}"


def _project(deployment: Deployment, name: str) -> Project:
    return next(p for p in deployment.projects if p.name == name)


def _gateway_upstreams(deployment: Deployment) -> list[str] | None:
    source = deployment.text(GATEWAY_ROUTES)
    if source is None:
        return None
    for node in ast.parse(source).body:
        target = getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == "UPSTREAMS" and isinstance(node.value, ast.Dict):
            return [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
    return None


_CREATE_DATABASE = re.compile(r'^\s*create_service_database\s+(\S+)\s+"\$\{(\w+)[:?}]', re.MULTILINE)


@check
def check_postgres(deployment: Deployment) -> Iterator[str]:
    """The init script creates every database a DATABASE_URL names, with the password it uses."""
    postgres = deployment.services.get("postgres")
    if postgres is None:
        yield "no postgres service"
        return
    script = deployment.text(POSTGRES_INIT)
    if script is None:
        yield f"{POSTGRES_INIT} is missing"
        return
    created = dict(_CREATE_DATABASE.findall(script))
    if not created:
        yield f'{POSTGRES_INIT}: no `create_service_database NAME "${{VAR:?}}"` line found'
    init_dir = str(PurePosixPath(POSTGRES_INIT).parent)
    if (init_dir, "/docker-entrypoint-initdb.d") not in set(bind_mounts(postgres)):
        yield f"postgres: should mount ./{init_dir} on /docker-entrypoint-initdb.d"
    pg_env = environment(postgres)
    for name, service in deployment.services.items():
        raw = environment(service).get("DATABASE_URL")
        if not raw:
            continue
        database = urlsplit(interpolate(raw)).path.lstrip("/")
        if database not in created:
            yield f"{name}: database {database!r} of its DATABASE_URL is not created by {POSTGRES_INIT}"
            continue
        variable = created[database]
        password = _password_expression(raw)
        if password is None or f"${{{variable}" not in password:
            yield f"{name}: DATABASE_URL should take its password from ${{{variable}...}}, has {password!r}"
        elif pg_env.get(variable) != password:
            yield (
                f"postgres: {variable} is {pg_env.get(variable)!r}, but {name} logs in with {password!r}"
                " (the role would get another password than the one used)"
            )


def _password_expression(url: str) -> str | None:
    match = re.match(r"^[a-z+]+://[^:@/]+:(?P<password>.+)@[^@]+$", url)
    return match["password"] if match else None


@check
def check_rabbitmq(deployment: Deployment) -> Iterator[str]:
    """The definitions RabbitMQ imports grant BROKER_URL's user its virtual host."""
    rabbitmq = deployment.services.get("rabbitmq")
    if rabbitmq is None:
        yield "no rabbitmq service"
        return
    mounts = dict(bind_mounts(rabbitmq))
    target = mounts.get(RABBITMQ_CONF, "")
    if not (target.startswith("/etc/rabbitmq/conf.d/") and target.endswith(".conf")):
        yield f"rabbitmq: should mount ./{RABBITMQ_CONF} into /etc/rabbitmq/conf.d/ (is {target!r})"
    scripts_dir = mounts.get(RABBITMQ_DIR)
    entrypoint = rabbitmq.get("entrypoint") or []
    entrypoint = shlex.split(entrypoint) if isinstance(entrypoint, str) else entrypoint
    if scripts_dir is None or f"{scripts_dir}/{PurePosixPath(RABBITMQ_RENDERER).name}" not in entrypoint:
        yield f"rabbitmq: its entrypoint should run {RABBITMQ_RENDERER} from the ./{RABBITMQ_DIR} mount"
    if command(rabbitmq) != ["rabbitmq-server"]:
        yield "rabbitmq: an entrypoint override needs command: [rabbitmq-server]"
    conf = deployment.text(RABBITMQ_CONF) or ""
    renderer = deployment.text(RABBITMQ_RENDERER) or ""
    loaded = re.search(r"^\s*load_definitions\s*=\s*(\S+)", conf, re.MULTILINE)
    written = re.search(r"\$\{CLIKOPRO_DEFINITIONS_FILE:-([^}]+)\}", renderer)
    if not loaded or not written or loaded[1] != written[1]:
        loads, writes = loaded and loaded[1], written and written[1]
        yield f"{RABBITMQ_CONF} loads {loads!r}, {RABBITMQ_RENDERER} writes {writes!r}"
    test = " ".join(map(str, (rabbitmq.get("healthcheck") or {}).get("test") or []))
    if "rabbitmq-diagnostics" not in test:
        yield "rabbitmq: its healthcheck should use rabbitmq-diagnostics"
    definitions, problem = render_definitions(deployment, rabbitmq)
    if problem:
        yield problem
        return
    users = {u["name"]: u for u in definitions.get("users", [])}
    vhosts = {v["name"]: v for v in definitions.get("vhosts", [])}
    granted = {(p["user"], p["vhost"]) for p in definitions.get("permissions", [])}
    for name, service in deployment.services.items():
        raw = environment(service).get("BROKER_URL")
        if not raw:
            continue
        url = urlsplit(interpolate(raw))
        user, password = unquote(url.username or ""), unquote(url.password or "")
        vhost = unquote(url.path[1:]) or "/"
        if user not in users or users[user].get("password") != password:
            yield f"{name}: BROKER_URL's user {user!r} and password are not those of the definitions"
        if vhost not in vhosts:
            yield f"{name}: BROKER_URL's virtual host {vhost!r} is not in the definitions"
        elif (user, vhost) not in granted:
            yield f"{name}: the definitions grant {user!r} nothing on {vhost!r}"
    for name, vhost in vhosts.items():
        queue_type = vhost.get("default_queue_type") or (vhost.get("metadata") or {}).get(
            "default_queue_type"
        )
        if queue_type != "quorum":
            yield f"definitions: virtual host {name!r} should default to quorum queues"


def render_definitions(deployment: Deployment, rabbitmq: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The definitions as the container renders them from the compose defaults."""
    bash = shutil.which("bash")
    if bash is None:
        return {}, "bash is needed to render the RabbitMQ definitions"
    env = {key: interpolate(value) for key, value in environment(rabbitmq).items()}
    env["PATH"] = "/usr/bin:/bin"
    result = subprocess.run(
        [bash, str(deployment.root / RABBITMQ_RENDERER), "--print"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        return {}, f"{RABBITMQ_RENDERER} --print failed: {result.stderr.strip()}"
    try:
        return json.loads(result.stdout), ""
    except json.JSONDecodeError as exc:
        return {}, f"{RABBITMQ_RENDERER} renders invalid JSON: {exc}"


@check
def check_dockerfiles(deployment: Deployment) -> Iterator[str]:
    """The one Dockerfile builds from pinned wheels, runs as non-root, and serves, for each project,
    a web module that exists on the port its compose services expect."""
    text = deployment.text(DOCKERFILE)
    if text is None:
        yield f"{DOCKERFILE} is missing"
        return
    yield from _dockerfile_problems(deployment, text)


def _dockerfile_problems(deployment: Deployment, text: str) -> Iterator[str]:
    where = DOCKERFILE
    instructions = parse_dockerfile(text)
    copied = set()
    for i in instructions:
        if i.keyword == "COPY" and "--from" not in i.arguments:
            copied.update([t for t in i.arguments.split() if not t.startswith("--")][:-1])
    for needed in ("constraints.txt", "shared/contracts", "shared/chassis", "${PROJECT_DIR}"):
        if needed not in copied:
            yield f"{where}: does not COPY {needed}"
    args = {}
    for instruction in instructions:
        if instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            args.setdefault(name, default)
    if "SERVICE" not in args or args.get("PROJECT_DIR") != "services/${SERVICE}":
        yield f"{where}: needs ARG SERVICE and ARG PROJECT_DIR=services/${{SERVICE}}"
    for run in (i.arguments for i in instructions if i.keyword == "RUN"):
        for pip in re.findall(r"pip (?:install|wheel)[^&;]*", run):
            if not re.search(r"(-c|--constraint)[ =]\S*constraints\.txt", pip):
                yield f"{where}: `{pip.strip()[:60]}...` does not use -c constraints.txt"
    froms = [i.arguments for i in instructions if i.keyword == "FROM"]
    runtime = interpolate(froms[-1].split()[0], args) if froms else ""
    if runtime != "python:3.11-slim":
        yield f"{where}: the runtime stage should be FROM python:3.11-slim, is {runtime!r}"
    users = [i.arguments for i in instructions if i.keyword == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        yield f"{where}: the image should run as a non-root USER"
    if "${PORT}" not in {i.arguments for i in instructions if i.keyword == "EXPOSE"}:
        yield f"{where}: should EXPOSE ${{PORT}}"
    health = [i.arguments for i in instructions if i.keyword == "HEALTHCHECK"]
    if not health or ":$CLIKOPRO_PORT/health" not in health[-1]:
        yield f"{where}: needs a HEALTHCHECK on :$CLIKOPRO_PORT/health"
    env = " ".join(i.arguments for i in instructions if i.keyword == "ENV")
    for variable in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "CLIKOPRO_SERVICE=${SERVICE}",
                     "CLIKOPRO_PORT=${PORT}"):  # fmt: skip
        if variable not in env:
            yield f"{where}: should set {variable}"
    cmds = [i for i in instructions if i.keyword == "CMD"]
    cmd = exec_form(cmds[-1]) if cmds else None
    if cmd != ["gunicorn", "--config", GUNICORN_CONF]:
        yield f"{where}: CMD should be gunicorn --config {GUNICORN_CONF} (exec form), is {cmd!r}"
    yield from _gunicorn_problems()
    for project in deployment.projects:
        yield from _served_app_problems(deployment, project, args)


def _gunicorn_problems() -> Iterator[str]:
    from clikopro_chassis.web import gunicorn_conf

    where = "clikopro_chassis/web/gunicorn_conf.py"
    if gunicorn_conf.worker_class != "uvicorn_worker.UvicornWorker":
        yield f"{where}: gunicorn needs uvicorn_worker.UvicornWorker (ASGI), not {gunicorn_conf.worker_class}"
    if gunicorn_conf.accesslog is not None:
        yield f"{where}: no gunicorn access log: the application logs each request itself"


def _served_app_problems(deployment: Deployment, project: Project, args: Mapping[str, str]) -> Iterator[str]:
    from clikopro_chassis.web.gunicorn_conf import app_for, default_port

    where = f"{DOCKERFILE} (SERVICE={project.name})"
    port = int(project.build_args.get("PORT") or args.get("PORT") or default_port(project.name))
    if port != project.port:
        yield f"{where}: gunicorn would bind 0.0.0.0:{port}, expected {project.port}"
    app = app_for(project.name)
    module, _, attribute = app.partition(":")
    if module != project.web_module or attribute != "app":
        yield f"{where}: serves {app!r}, expected {project.web_module}:app"
    source_path = f"{project.path}/src/{module.replace('.', '/')}.py"
    source = deployment.text(source_path)
    if source is None:
        yield f"{where}: web module {module!r} does not exist ({source_path})"
    elif not defines_app(source):
        yield f"{where}: {source_path} defines no top-level `app`"


def _option(cmd: list[str], *names: str) -> str | None:
    for index, part in enumerate(cmd):
        if part in names and index + 1 < len(cmd):
            return cmd[index + 1]
        for name in names:
            if part.startswith(f"{name}="):
                return part.split("=", 1)[1]
    return None


@check
def check_pins(deployment: Deployment) -> Iterator[str]:
    """Every distribution an image installs is pinned in constraints.txt (the images install with -c).

    Our projects' dependencies come from their pyproject.toml; those of the others from
    their metadata as installed here (``make install``).
    """
    pinned = {
        canonical(re.split(r"[=<>!~;\s\[]", line.strip(), maxsplit=1)[0])
        for line in (deployment.text("constraints.txt") or "").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    ours = {}
    for pyproject in [f"{shared}/pyproject.toml" for shared in SHARED_PROJECTS] + [
        f"{p.path}/pyproject.toml" for p in deployment.projects
    ]:
        project = tomllib.loads(deployment.text(pyproject) or "[project]\nname = 'missing'")["project"]
        ours[canonical(project["name"])] = project.get("dependencies", [])
    wanted: dict[str, set[str]] = {}
    todo: list[tuple[str, frozenset[str]]] = [(p.dist, frozenset()) for p in deployment.projects]
    todo.append(("clikopro-chassis", frozenset({"otlp"})))  # the Dockerfile installs the OTLP exporter
    while todo:
        name, extras = todo.pop()
        key = canonical(name)
        if key in wanted and extras <= wanted[key]:
            continue
        wanted.setdefault(key, set()).update(extras)
        try:
            requires = ours[key] if key in ours else metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            if key in pinned:
                yield f"{name} is not installed here: its dependencies cannot be checked (make install)"
            continue
        for line in requires:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *wanted[key]}):
                todo.append((requirement.name, frozenset(requirement.extras)))
    loose = sorted(name for name in wanted if name not in ours and name not in pinned)
    if loose:
        yield f"constraints.txt does not pin {', '.join(loose)}, which the images install"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@check
def check_mounts(deployment: Deployment) -> Iterator[str]:
    """Bind-mounted files exist; named volumes are declared."""
    declared = set(deployment.compose.get("volumes") or {})
    for name, service in deployment.services.items():
        for source, target in bind_mounts(service):
            if not deployment.exists(source):
                yield f"{name}: mounts ./{source} on {target}, which does not exist"
        for volume in named_volumes(service):
            if volume not in declared:
                yield f"{name}: volume {volume!r} is not declared under the top-level volumes"


@check
def check_variables(deployment: Deployment) -> Iterator[str]:
    """Every ${VARIABLE} has a default, so that `docker compose up` runs with no .env."""
    for where, value in strings(deployment.compose):
        for match in _VARIABLE.finditer(value):
            if match["escaped"]:
                continue
            if match["bare"]:
                yield f"{where}: write ${{{match['bare']}:-default}} rather than ${match['bare']}"
            elif match["op"] not in (":-", "-"):
                yield f"{where}: ${{{match['name']}}} has no default"


@check
def check_dockerignore(deployment: Deployment) -> Iterator[str]:
    """.dockerignore keeps the junk out of the build context, and nothing an image needs."""
    text = deployment.text(".dockerignore")
    if text is None:
        yield ".dockerignore is missing"
        return
    patterns = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    for junk in (
        ".git",
        ".venv",
        "var",
        "services/identity/src/x/__pycache__",
        "shared/chassis/src/x.egg-info",
    ):
        if not dockerignored(patterns, junk):
            yield f".dockerignore should exclude {junk}"
    needed = ["constraints.txt"]
    for project_dir in [*SHARED_PROJECTS, *(p.path for p in deployment.projects)]:
        base = deployment.root / project_dir
        needed.append(f"{project_dir}/pyproject.toml")
        needed += [
            path.relative_to(deployment.root).as_posix()
            for path in sorted((base / "src").rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path)
        ]
    excluded = [path for path in needed if dockerignored(patterns, path)]
    for path in excluded[:10]:
        yield f".dockerignore excludes {path}, which an image needs"


def dockerignored(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


# --------------------------------------------------------------------------- entry point


def run(deployment: Deployment) -> dict[str, list[str]]:
    return {name: list(function(deployment)) for name, function in CHECKS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args(argv)
    problems = [(name, p) for name, found in run(load()).items() for p in found]
    for name, problem in problems:
        print(f"[{name}] {problem}")
    print(f"check_compose: {len(CHECKS)} checks, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
