"""clikopro-ops status without servers: the management API's answer (a recorded one, served over
real HTTP), the stall tracking between runs, problems first, colour only on a terminal."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clikopro_chassis.ops import broker, dead_letters, status
from clikopro_chassis.ops.cli import duration

RECORDED = json.loads((Path(__file__).parent / "data" / "management_queue.json").read_text())


@pytest.fixture
def management_api():
    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path == "/api/queues/%2F/clikopro.missions":
                body, code = json.dumps(RECORDED).encode(), 200
            elif self.path == "/api/overview":
                body, code = b"{}", 200
            else:
                body, code = b'{"error":"Object Not Found","reason":"Not Found"}', 404
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://ops:secret@127.0.0.1:{server.server_port}", seen
    server.shutdown()


def test_the_management_api_gives_ready_unacked_consumers_and_rates(management_api) -> None:
    url, seen = management_api
    view = broker.view_for("amqp://guest:guest@127.0.0.1:5672//", url)
    assert view.source == "management"
    stats = view.stats(["clikopro.missions", "clikopro.missions.dead-letter"])
    missions = stats["clikopro.missions"]
    assert (missions.messages, missions.ready, missions.unacked, missions.consumers) == (127, 107, 20, 2)
    assert (missions.publish_rate, missions.deliver_rate, missions.delivered_total) == (44.8, 41.6, 91890)
    assert not stats["clikopro.missions.dead-letter"].exists
    assert seen[-1][1] == "Basic b3BzOnNlY3JldA=="  # ops:secret


def test_without_the_management_api_it_falls_back_to_amqp() -> None:
    # Nothing listens on this port: the view is the AMQP one (passive declares).
    view = broker.view_for("amqp://guest:guest@127.0.0.1:1//")
    assert view.source == "amqp"
    assert broker.view_for("amqp://guest:guest@127.0.0.1:5672//", "").source == "amqp"
    assert broker.management_url_for("amqp://u:p@rabbit:5672/clikopro") == "http://u:p@rabbit:15672"


def stats(messages: int, consumers: int, delivered: int | None = None) -> broker.QueueStats:
    return broker.QueueStats("q", True, messages=messages, consumers=consumers, delivered_total=delivered)


def test_a_queue_that_delivers_nothing_is_stalled_since_the_first_run_that_saw_it(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = status.StallTracker(path)
    assert first.observe(stats(0, 1, 100), now=1000.0)["stalled_for_seconds"] is None
    first.save()
    second = status.StallTracker(path)
    seen = second.observe(stats(5, 1, 100), now=1060.0)  # messages arrived, nothing delivered since
    assert seen["growing"] and seen["stalled_for_seconds"] is None  # one run cannot tell
    second.save()
    third = status.StallTracker(path)
    seen = third.observe(stats(9, 1, 100), now=1120.0)
    assert seen["stalled_for_seconds"] == 60.0 and seen["growing"]
    third.save()
    fourth = status.StallTracker(path)
    assert fourth.observe(stats(9, 1, 104), now=1180.0)["stalled_for_seconds"] is None  # delivering again
    # No consumer at all: stalled from the first run that sees messages.
    fifth = status.StallTracker(None)
    assert fifth.observe(stats(3, 0), now=2000.0)["stalled_for_seconds"] == 0.0


def service_status(**queue: object) -> status.ServiceStatus:
    web = {"url": "http://x", "status": "ok", "outbox": {"pending": 3, "oldest_pending_age_seconds": 75.0}}
    worker = {"consuming": True, "outbox_pending": 3, "outbox_oldest_pending_age_seconds": 75.0}
    q = {"name": "p.missions", "exists": True, "messages": 4, "ready": 4, "unacked": None, "consumers": 0,
         "oldest_age_seconds": 130.0, "growing": True, "previous_messages": 1} | queue  # fmt: skip
    dead = dead_letters.summarise(
        [
            {"error_kind": "handler_failed", "error": "ValueError: no\n[SQL]", "age_seconds": 10},
            {"error_kind": "handler_failed", "error": "ValueError: no", "age_seconds": 400},
            {"error_kind": "malformed", "error": "ContractError: not JSON", "age_seconds": 5},
        ]
    )
    s = status.ServiceStatus("missions", web, worker, q, dead)
    s.problems = status.problems_of(s)
    return s


def test_problems_come_first_and_colour_only_when_asked() -> None:
    s = service_status()
    whats = [p.what for p in s.problems]
    assert whats == [
        "outbox: 3 event(s) unpublished, oldest 75s",
        "nobody consumes p.missions, 4 message(s) waiting, oldest 2min",
        "p.missions grows: 1 -> 4",
        "3 dead letter(s), oldest 7min; handler_failed: ValueError: no",
    ]
    assert s.dead_letters["top_errors"][0] == {
        "error_kind": "handler_failed",
        "error": "ValueError: no",
        "count": 2,
    }
    healthy = status.ServiceStatus(
        "identity", {"url": "u", "status": "ok"}, {}, {"exists": False}, {"count": 0}
    )
    plain = status.render([healthy, s], colour=False, source="amqp")
    lines = plain.splitlines()
    assert lines[0] == "4 problem(s)" and "CRIT missions" in lines[1]
    assert "WARN missions" in lines[4]  # warnings after the critical ones
    table = lines[lines.index("") + 1 :]
    assert table[1].startswith("missions") and any(line.startswith("identity") for line in table)
    assert "\033[" not in plain and "enable rabbitmq_management" in plain
    assert "\033[31m" in status.render([s], colour=True, source="management")
    report = json.loads(status.as_json([healthy, s], "amqp"))
    assert report["healthy"] is False and len(report["problems"]) == 4


def test_selection_and_durations() -> None:
    entry = {"id": "e1", "type": "TaskValidated", "error_kind": "malformed", "age_seconds": 7200}
    assert dead_letters.Selection().matches(entry)
    assert dead_letters.Selection(ids=("e1",), event_type="TaskValidated", older_than=3600).matches(entry)
    assert not dead_letters.Selection(error_kind="handler_failed").matches(entry)
    assert not dead_letters.Selection(newer_than=60).matches(entry)
    assert [duration(t) for t in ("90", "90s", "10m", "2h", "3d")] == [90, 90, 600, 7200, 259200]
    with pytest.raises(Exception, match="not a duration"):
        duration("soon")
