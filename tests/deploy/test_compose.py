"""The container deployment agrees with the code (tools/check_compose.py).

The first test runs every check on the repository. The others break a copy of
the deployment the way a careless edit would, and expect the check to say so:
a check that cannot fail proves nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "clikopro_check_compose", ROOT / "tools" / "check_compose.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


@pytest.fixture
def deployment():
    return checker.load(ROOT)


def problems(deployment, name: str) -> list[str]:
    return list(checker.CHECKS[name](deployment))


@pytest.mark.parametrize("name", sorted(checker.CHECKS))
def test_the_repository_passes(deployment, name):
    assert problems(deployment, name) == []


def test_every_service_is_checked(deployment):
    names = {p.name for p in deployment.service_projects}
    assert names == {
        path.name for path in (ROOT / "services").iterdir() if (path / "pyproject.toml").exists()
    }
    assert len(names) == 7


# -- roles


def test_a_missing_worker_is_reported(deployment):
    del deployment.services["payments-worker"]
    assert any("'payments-worker'" in p for p in problems(deployment, "roles"))


def test_a_worker_running_the_wrong_command_is_reported(deployment):
    deployment.services["missions-worker"]["command"] = ["clikopro-missions", "migrate"]
    assert any(p.startswith("missions-worker: command") for p in problems(deployment, "roles"))


def test_a_migration_that_restarts_is_reported(deployment):
    deployment.services["identity-migrate"]["restart"] = False  # what an unquoted `no` becomes
    assert any("identity-migrate" in p for p in problems(deployment, "roles"))


# -- images and the Dockerfile


def test_a_dockerfile_that_does_not_exist_is_reported(deployment):
    deployment.services["reputation"]["build"]["dockerfile"] = "services/reputation/Dockerfile"
    found = problems(deployment, "images")
    assert any("does not exist" in p for p in found)
    assert any("expected 'Dockerfile'" in p for p in found)


def test_an_image_built_for_another_service_is_reported(deployment):
    deployment.services["reputation"]["build"]["args"] = {"SERVICE": "missions"}
    assert "reputation: build args {'SERVICE': 'missions'}, expected {'SERVICE': 'reputation'}" in problems(
        deployment, "images"
    )
    deployment.services["gateway"]["build"]["args"] = {"SERVICE": "gateway"}  # without its directory
    assert any(p.startswith("gateway: build args") for p in problems(deployment, "images"))


def test_a_dockerfile_without_the_chassis_is_reported(deployment):
    text = (ROOT / "Dockerfile").read_text()
    deployment.overrides["Dockerfile"] = text.replace("COPY shared/chassis shared/chassis\n", "")
    assert "Dockerfile: does not COPY shared/chassis" in problems(deployment, "dockerfiles")


def test_a_pip_install_without_constraints_is_reported(deployment):
    text = (ROOT / "Dockerfile").read_text()
    deployment.overrides["Dockerfile"] = text.replace("-c /tmp/constraints.txt ", "")
    assert any("does not use -c constraints.txt" in p for p in problems(deployment, "dockerfiles"))


def test_a_web_module_without_app_is_reported(deployment):
    web = "services/payments/src/clikopro_payments/entrypoints/web.py"
    deployment.overrides[web] = "application = None\n"
    assert f"Dockerfile (SERVICE=payments): {web} defines no top-level `app`" in problems(
        deployment, "dockerfiles"
    )


def test_a_web_module_that_does_not_exist_is_reported(deployment):
    deployment.projects = [
        checker.Project(p.name, p.path.replace("identity", "identity-old"), p.dist, p.package, p.port)
        if p.name == "identity"
        else p
        for p in deployment.projects
    ]
    found = problems(deployment, "dockerfiles")
    assert any("web module 'clikopro_identity.entrypoints.web' does not exist" in p for p in found)


def test_a_dockerfile_running_as_root_or_serving_without_the_config_is_reported(deployment):
    text = (ROOT / "Dockerfile").read_text()
    deployment.overrides["Dockerfile"] = text.replace("USER 10001:10001", "USER root").replace(
        '"--config", "python:clikopro_chassis.web.gunicorn_conf"', '"clikopro_missions.entrypoints.web:app"'
    )
    found = problems(deployment, "dockerfiles")
    assert "Dockerfile: the image should run as a non-root USER" in found
    assert any(p.startswith("Dockerfile: CMD should be gunicorn --config") for p in found)


def test_a_gateway_image_on_another_port_is_reported(deployment):
    deployment.services["gateway"]["build"]["args"]["PORT"] = "8000"
    assert "gateway: its image listens on 8000, not 8080" in problems(deployment, "gateway")


# -- dependencies


def test_a_dependency_on_an_unknown_service_is_reported(deployment):
    deployment.services["gateway"]["depends_on"]["identitty"] = {"condition": "service_healthy"}
    assert any("'identitty', which is not a service" in p for p in problems(deployment, "dependencies"))


def test_a_web_process_not_waiting_for_its_migration_is_reported(deployment):
    del deployment.services["subscriptions"]["depends_on"]["subscriptions-migrate"]
    assert any(p.startswith("subscriptions: should depend on") for p in problems(deployment, "dependencies"))


def test_waiting_for_a_service_without_healthcheck_is_reported(deployment):
    deployment.services["postgres"]["healthcheck"] = {"disable": True}
    assert any("has no healthcheck" in p for p in problems(deployment, "dependencies"))


def test_a_dependency_cycle_is_reported(deployment):
    deployment.services["identity-migrate"]["depends_on"]["identity"] = {"condition": "service_started"}
    assert any("cycle" in p for p in problems(deployment, "dependencies"))


# -- environment


def test_a_database_url_naming_another_database_is_reported(deployment):
    env = deployment.services["identity"]["environment"]
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("/identity", "/missions")
    found = problems(deployment, "environment")
    assert any("names database 'missions'" in p for p in found)
    assert any("disagree on DATABASE_URL" in p for p in found)


def test_a_missing_broker_url_is_reported(deployment):
    del deployment.services["appointments-worker"]["environment"]["BROKER_URL"]
    assert "appointments-worker: no BROKER_URL" in problems(deployment, "environment")


def test_a_worker_without_metrics_port_is_reported(deployment):
    del deployment.services["reputation-worker"]["environment"]["WORKER_METRICS_PORT"]
    assert any("WORKER_METRICS_PORT" in p for p in problems(deployment, "environment"))


# -- settings and pins


def test_a_local_default_left_in_a_container_is_reported(deployment):
    del deployment.services["missions-worker"]["environment"]["JWKS_URL"]
    assert any(
        p.startswith("missions-worker: JWKS_URL must be set") for p in problems(deployment, "settings")
    )


def test_a_setting_pointing_at_no_service_is_reported(deployment):
    deployment.services["payments"]["environment"]["JWKS_URL"] = "http://identty:8000/.well-known/jwks.json"
    assert any("'identty', which is not a service" in p for p in problems(deployment, "settings"))


def test_a_gateway_setting_left_at_its_local_default_is_reported(deployment):
    settings = "gateway/src/clikopro_gateway/settings.py"
    source = (ROOT / settings).read_text()
    read = 'env.get("LOG_LEVEL", "INFO")'
    assert read in source
    deployment.overrides[settings] = source.replace(
        read, f'{read} or env.get("AUDIT_SINK_URL", "http://127.0.0.1:8199/audit")'
    )
    assert any(p.startswith("gateway: AUDIT_SINK_URL must be set") for p in problems(deployment, "settings"))


def test_a_dependency_constraints_do_not_pin_is_reported(deployment):
    constraints = (ROOT / "constraints.txt").read_text()
    deployment.overrides["constraints.txt"] = "\n".join(
        line for line in constraints.splitlines() if not line.lower().startswith("kombu==")
    )
    assert any("does not pin kombu" in p for p in problems(deployment, "pins"))


# -- gateway


def test_a_service_the_gateway_does_not_know_is_reported(deployment):
    del deployment.services["gateway"]["environment"]["TRUST_SAFETY_URL"]
    assert any("TRUST_SAFETY_URL" in p for p in problems(deployment, "gateway"))


def test_a_gateway_on_another_port_is_reported(deployment):
    deployment.services["gateway"]["ports"] = ["8081:8080"]
    assert any("should publish 8080:8080" in p for p in problems(deployment, "gateway"))


# -- postgres


def test_a_database_the_init_script_does_not_create_is_reported(deployment):
    script = (ROOT / checker.POSTGRES_INIT).read_text()
    deployment.overrides[checker.POSTGRES_INIT] = "\n".join(
        line for line in script.splitlines() if "create_service_database trust_safety" not in line
    )
    assert any("'trust_safety'" in p for p in problems(deployment, "postgres"))


def test_a_role_password_that_differs_from_the_url_is_reported(deployment):
    deployment.services["postgres"]["environment"]["MISSIONS_DB_PASSWORD"] = "${MISSIONS_DB_PASSWORD:-other}"
    assert any(p.startswith("postgres: MISSIONS_DB_PASSWORD") for p in problems(deployment, "postgres"))


# -- rabbitmq


def test_a_broker_user_without_definitions_is_reported(deployment):
    env = deployment.services["payments"]["environment"]
    env["BROKER_URL"] = "amqp://someone:secret@rabbitmq:5672/clikopro"
    assert any("payments: BROKER_URL's user 'someone'" in p for p in problems(deployment, "rabbitmq"))


def test_a_broker_url_on_another_vhost_is_reported(deployment):
    env = deployment.services["missions-migrate"]["environment"]
    env["BROKER_URL"] = env["BROKER_URL"].rsplit("/", 1)[0] + "/"
    assert any("virtual host '/'" in p for p in problems(deployment, "rabbitmq"))


def test_definitions_that_fail_to_render_are_reported(deployment):
    deployment.services["rabbitmq"]["environment"]["RABBITMQ_APP_PASSWORD"] = "p@ss"
    assert any("render-definitions.sh --print failed" in p for p in problems(deployment, "rabbitmq"))


# -- mounts, variables, .dockerignore


def test_a_mounted_file_that_does_not_exist_is_reported(deployment):
    deployment.services["rabbitmq"]["volumes"].append("./deploy/rabbitmq/enabled_plugins:/etc/rabbitmq/x:ro")
    assert any("enabled_plugins" in p for p in problems(deployment, "mounts"))


def test_a_key_given_twice_is_reported(deployment):
    # PyYAML merges both "<<" (the file looked right to every other check); docker compose refuses it.
    text = (ROOT / "docker-compose.yml").read_text()
    deployment.overrides["docker-compose.yml"] = text.replace(
        "    <<: [*service-env, *stripe-env]\n", "    <<: *service-env\n    <<: *stripe-env\n", 1
    )
    assert any("'<<' already given" in p for p in problems(deployment, "yaml"))


def test_a_variable_without_default_is_reported(deployment):
    deployment.services["postgres"]["environment"]["POSTGRES_PASSWORD"] = "${POSTGRES_PASSWORD}"
    assert any("POSTGRES_PASSWORD" in p for p in problems(deployment, "variables"))


def test_a_dockerignore_hiding_sources_is_reported(deployment):
    deployment.overrides[".dockerignore"] = (ROOT / ".dockerignore").read_text() + "\n**/*.yaml\n"
    assert any("openapi.yaml" in p for p in problems(deployment, "dockerignore"))


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("**/__pycache__", "shared/chassis/src/clikopro_chassis/__pycache__/x.pyc", True),
        ("var", "var/local/identity.sqlite3", True),
        ("var", "services/identity/src/var.py", False),
        ("tests", "services/identity/tests/test_x.py", False),
        ("**/tests", "services/identity/tests/test_x.py", True),
        ("*.md", "README.md", True),
        ("*.md", "docs/x.md", False),
    ],
)
def test_dockerignore_patterns_match_as_docker_does(pattern, path, excluded):
    assert checker.dockerignored([pattern], path) is excluded
    assert checker.dockerignored([pattern, f"!{path}"], path) is False


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A-x}", {"A": ""}, ""),
        ("${A:-x}", {"A": "y"}, "y"),
        ("pre-${A}-post", {"A": "y"}, "pre-y-post"),
        ("$${HOME}", {}, "${HOME}"),
    ],
)
def test_interpolation_follows_compose(value, env, expected):
    assert checker.interpolate(value, env) == expected


def test_the_command_line_reports_no_problem(capsys):
    assert checker.main([]) == 0
    assert "0 problems" in capsys.readouterr().out
