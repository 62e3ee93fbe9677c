"""Every service, as deployed: its migrations match its models, on SQLite and
PostgreSQL, and its web app boots from its spec with health, readiness,
metrics and a valid OpenAPI document."""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from clikopro_chassis import migrations
from clikopro_chassis.db import normalise_url
from clikopro_chassis.messaging import metadata as messaging_metadata

PACKAGES = [
    "clikopro_identity",
    "clikopro_missions",
    "clikopro_payments",
    "clikopro_subscriptions",
    "clikopro_appointments",
    "clikopro_reputation",
    "clikopro_trust_safety",
]


def schema_drift(package: str, url: str) -> list:
    orm = importlib.import_module(f"{package}.adapters.orm")
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), [orm.metadata, messaging_metadata])
    engine.dispose()
    return diff


@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_build_exactly_the_models_on_sqlite(package: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    migrations.upgrade(package, url)
    assert schema_drift(package, url) == []
    migrations.upgrade(package, url)  # idempotent
    from alembic import command

    command.downgrade(migrations.alembic_config(package, url), "base")


@pytest.mark.integration
@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_build_exactly_the_models_on_postgresql(package: str, postgres_databases) -> None:
    url = postgres_databases.create(f"{package}_{uuid.uuid4().hex[:4]}")
    migrations.upgrade(package, url)
    assert schema_drift(package, url) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_the_web_app_boots_from_its_spec(
    package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    migrations.upgrade(package, url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BROKER_URL", "memory://")
    web = importlib.import_module(f"{package}.entrypoints.web")
    with TestClient(web.build()) as client:
        assert client.get("/health").json()["status"] == "ok"
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        spec = client.get("/openapi.json").json()
        assert spec["openapi"].startswith("3.") and "paths" in spec
        assert "clikopro_http_requests_total" in client.get("/metrics").text
        missing = client.get("/api/v1/definitely-not-a-route")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_services_assume_the_catalogs_free_plan_for_a_pro_they_have_not_heard_of() -> None:
    """Missions and payments fall back to settings for a pro with no subscription event yet;
    those defaults must be the free plan of subscriptions' catalog (plans.yaml)."""
    from clikopro_missions.settings import MissionsSettings
    from clikopro_payments.settings import PaymentsSettings
    from clikopro_subscriptions.bootstrap import load_catalog
    from clikopro_subscriptions.settings import SubscriptionsSettings

    catalog = load_catalog(SubscriptionsSettings.from_env("subscriptions", {}))
    free = next(plan for plan in catalog.plans if plan.id == "free")
    assert MissionsSettings.from_env("missions", {}).free_plan_proposals_per_month == free.proposals_per_month
    assert PaymentsSettings.from_env("payments", {}).default_commission_bps == free.commission_rate_bps
