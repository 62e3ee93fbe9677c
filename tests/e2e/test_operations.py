"""The on-call story of R22 with the real ``clikopro-ops`` command, on the embedded platform and on
RabbitMQ/PostgreSQL: a consumer stops and its queue fills; a bad deploy makes its handler fail and
the event is dead-lettered; status says so (exit 1), replay --dry-run lists the dead letter, the fix
lands, replay puts the event back (same id), and status is green again (exit 0)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from clikopro_chassis.testing.queues import publish_raw
from clikopro_contracts.examples import example

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OPS = str(Path(sys.executable).parent / "clikopro-ops")
CONSUMER = "identity"
BROKEN_TABLE = "suspensions"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by the platform fixture (it starts from os.environ): a failing handler dead-letters in 0.2 s.
    monkeypatch.setenv("CONSUMER_RETRY_DELAYS_MS", "100,100")


def ops_env(platform: Any, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env |= {
        "BROKER_URL": platform.service_env(CONSUMER)["BROKER_URL"],
        "BUS_PREFIX": platform.base_env["BUS_PREFIX"],
        "CLIKOPRO_OPS_STATE": str(tmp_path / "ops-state.json"),
        "CLIKOPRO_OPS_AUDIT_LOG": str(tmp_path / "ops-audit.log"),
        "CLIKOPRO_OPS_OPERATOR": "on-call@test",
    }
    for service, _, port in platform_services(platform):
        env[f"{service.upper().replace('-', '_')}_URL"] = f"http://127.0.0.1:{platform.service_port(port)}"
    return env


def platform_services(platform: Any) -> list[tuple[str, str, int]]:
    return sys.modules["clikopro_launcher"].SERVICES  # loaded by conftest


def ops(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPS, *args], env=env, capture_output=True, text=True, timeout=60)


def status(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = ops(env, "status", "--json")
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def of(report: dict[str, Any], service: str) -> dict[str, Any]:
    return next(s for s in report["services"] if s["service"] == service)


def worker(platform: Any) -> Any:
    return next(c for c in platform.children if c.name == f"{CONSUMER}-worker")


def stop_worker(platform: Any) -> None:
    child = worker(platform)
    child.process.send_signal(signal.SIGTERM)
    child.process.wait(20)


def start_worker(platform: Any, log: Path) -> None:
    child = worker(platform)
    child.process = subprocess.Popen(
        child.argv, env=child.env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def rename_table(platform: Any, old: str, new: str) -> None:
    engine = sa.create_engine(
        platform.service_env(CONSUMER)["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    )
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))
    finally:
        engine.dispose()


def suspension_event() -> dict[str, Any]:
    event = example("AccountSuspended", 1)
    now = dt.datetime.now(dt.UTC)
    event |= {"id": str(uuid.uuid4()), "occurred_at": now.isoformat().replace("+00:00", "Z")}
    event["data"] |= {
        "user_id": str(uuid.uuid4()),
        "suspended_at": event["occurred_at"],
        "until": (now + dt.timedelta(days=30)).isoformat().replace("+00:00", "Z"),
    }
    return event


def test_a_stopped_consumer_and_a_dead_letter_are_seen_replayed_and_mended(
    platform: Any, tmp_path: Path, wait_until: Any
) -> None:
    env = ops_env(platform, tmp_path)
    queue, dead_queue = f"{env['BUS_PREFIX']}.{CONSUMER}", f"{env['BUS_PREFIX']}.{CONSUMER}.dead-letter"

    code, report = status(env)
    assert code == 0, report["problems"]
    assert of(report, CONSUMER)["queue"]["consumers"] >= 1
    assert of(report, "missions")["web"]["outbox"]["pending"] == 0

    # 1. The consumer stops; an event arrives for it and waits.
    stop_worker(platform)
    event = suspension_event()
    publish_raw(env["BROKER_URL"], env["BUS_PREFIX"], event)

    seen_growing = []

    def stalled() -> dict[str, Any] | None:
        code, report = status(env)
        identity = of(report, CONSUMER)
        seen_growing.append(identity["queue"]["growing"])
        waited = identity["queue"]["oldest_age_seconds"] or identity["queue"]["stalled_for_seconds"]
        return report if code == 1 and identity["queue"]["messages"] == 1 and waited else None

    report = wait_until(stalled, timeout=30, interval=0.5, message="status to see the stopped consumer")
    assert not report["healthy"]
    assert any(
        p["service"] == CONSUMER and f"nobody consumes {queue}, 1 message(s) waiting, oldest" in p["what"]
        for p in report["problems"]
    ), report["problems"]
    assert any(seen_growing)  # 0 -> 1 between two runs
    human = ops(env, "status", "--colour", "never")
    assert human.returncode == 1
    assert human.stdout.splitlines()[0].endswith("problem(s)")
    assert f"nobody consumes {queue}" in human.stdout.splitlines()[1]  # problems first

    # 2. A bad deploy: its table is gone. The worker comes back, the handler fails, the event is
    # dead-lettered with its error.
    rename_table(platform, BROKEN_TABLE, f"{BROKEN_TABLE}_moved")
    start_worker(platform, tmp_path / "worker.log")

    def dead_lettered() -> dict[str, Any] | None:
        code, report = status(env)
        dead = of(report, CONSUMER)["dead_letters"]
        return (
            report
            if code == 1 and dead["count"] == 1 and of(report, CONSUMER)["queue"]["consumers"]
            else None
        )

    report = wait_until(dead_lettered, timeout=40, interval=0.5, message="the dead letter in status")
    dead = of(report, CONSUMER)["dead_letters"]
    assert dead["top_errors"][0]["error_kind"] == "handler_failed"
    assert BROKEN_TABLE in dead["top_errors"][0]["error"]
    assert dead["oldest_age_seconds"] is not None and dead["oldest_age_seconds"] >= 0
    assert any("1 dead letter(s)" in p["what"] and BROKEN_TABLE in p["what"] for p in report["problems"])

    listed = [
        json.loads(line)
        for line in ops(env, "dead-letters", CONSUMER, "--type", "AccountSuspended").stdout.splitlines()
    ]
    assert [e["id"] for e in listed] == [event["id"]]
    assert ops(env, "dead-letters", CONSUMER, "--error-kind", "malformed").stdout == ""
    assert ops(env, "dead-letters", CONSUMER, "--older-than", "1h").stdout == ""

    # 3. replay --dry-run lists it and changes nothing.
    dry = ops(env, "replay", CONSUMER, "--dry-run")
    assert dry.returncode == 0
    assert json.loads(dry.stdout.splitlines()[0])["would_replay"]["id"] == event["id"]
    assert "would replay 1 of 1 message(s)" in dry.stdout
    assert of(status(env)[1], CONSUMER)["dead_letters"]["count"] == 1

    # 4. The fix lands; replay by id moves it back, the consumer handles it (same event id).
    rename_table(platform, f"{BROKEN_TABLE}_moved", BROKEN_TABLE)
    replayed = ops(env, "replay", CONSUMER, "--id", event["id"], "--reason", "table restored")
    assert replayed.returncode == 0, replayed.stderr
    assert f"replayed 1 message(s) to {queue}" in replayed.stdout
    audit = json.loads((tmp_path / "ops-audit.log").read_text().splitlines()[-1])
    assert audit["audit"] == "dead_letters_replayed" and audit["event_ids"] == [event["id"]]
    assert audit["by"] == "on-call@test" and audit["reason"] == "table restored"

    def suspended() -> bool:
        answer = httpx.get(
            f"{env['IDENTITY_URL']}/internal/suspensions",
            headers={"X-Internal-Token": platform.base_env["INTERNAL_API_TOKEN"].split(",")[0]},
        )
        return event["data"]["user_id"] in answer.text

    wait_until(suspended, timeout=20, interval=0.2, message="the replayed event handled")

    # 5. Green again.
    def green() -> dict[str, Any] | None:
        code, report = status(env)
        return report if code == 0 else None

    report = wait_until(green, timeout=30, interval=0.5, message="status to be green")
    identity = of(report, CONSUMER)
    assert identity["dead_letters"]["count"] == 0 and identity["queue"]["messages"] == 0
    assert ops(env, "status").stdout.startswith("all healthy")
    assert dead_queue.endswith(".dead-letter")


def test_purge_asks_first_and_is_audited(platform: Any, tmp_path: Path, wait_until: Any) -> None:
    env = ops_env(platform, tmp_path)
    # Not an event at all: dead-lettered at once as malformed.
    publish_raw(
        env["BROKER_URL"], env["BUS_PREFIX"], b"{not json", routing_key="trust-safety.AccountSuspended"
    )
    wait_until(
        lambda: ops(env, "dead-letters", CONSUMER, "--error-kind", "malformed").stdout,
        timeout=20,
        interval=0.3,
        message="the malformed message dead-lettered",
    )
    refused = ops(env, "purge", CONSUMER)  # no terminal, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert of(status(env)[1], CONSUMER)["dead_letters"]["count"] == 1
    purged = ops(env, "purge", CONSUMER, "--error-kind", "malformed", "--yes", "--reason", "not an event")
    assert purged.returncode == 0 and "purged 1 message(s)" in purged.stdout
    line = json.loads(purged.stdout.splitlines()[-1])
    assert line["audit"] == "dead_letters_purged" and line["selection"] == {"error_kind": "malformed"}
    assert json.loads((tmp_path / "ops-audit.log").read_text().splitlines()[-1]) == line
    # Other services that consume suspensions got it too.
    for service in {p["service"] for p in status(env)[1]["problems"]} - {CONSUMER}:
        assert ops(env, "purge", service, "--yes").returncode == 0
    wait_until(
        lambda: status(env)[0] == 0,
        timeout=20,
        interval=0.5,
        message="green after the purge",
    )
