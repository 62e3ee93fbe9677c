"""Every route of the public API, fuzzed through the gateway: no input gets a 500.

Schemathesis generates requests from the merged OpenAPI document the gateway serves (bodies,
path and query parameters, headers, valid and invalid) and sends them, signed in as a client and
as a professional, to the ``make run`` processes on this run's PostgreSQL and RabbitMQ. Every
answer must be below 500, every refusal a problem+json document with a stable ``code``, and
every answer one the document announces (status, media type, schema of the body).
Generation is derandomized, so that a run is reproducible and CI cannot flake on a lucky draw;
the cases it found before (a date that is not one, a broken multipart body) are kept as tests of
the chassis.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from secure_story import Story

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

# The fuzzer would spend its requests on 429s.
PLATFORM_ENV = {"RATE_LIMIT_PER_USER": "", "RATE_LIMIT_PER_IP": ""}
ROLES = ("client", "pro")


def real_resources(story: Story, client: str, pro: str) -> dict[str, str]:
    """Ids of things that exist, so that the fuzzer reaches past 404: a mission under contract with
    its tasks, and a live proposal on another mission (which the fuzzing client may well accept)."""

    def propose(mission_id: str) -> dict[str, Any]:
        due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        body = {"amount_cents": 90_000, "message": "Devis", "payment_mode": "secure",
                "tasks": [{"title": "Dépose", "amount_cents": 40_000, "due_date": due},
                          {"title": "Pose", "amount_cents": 50_000, "due_date": due}]}  # fmt: skip
        path = f"/api/v1/missions/{mission_id}/proposals"
        return story.eventually(
            "missions to know the pro", lambda: story.call("POST", path, pro, json=body, expect=201)
        )

    def publish() -> str:
        body = {"title": "Douche", "description": "Salle de bains", "trade": "plomberie", "postcode": "69003"}
        return story.call("POST", "/api/v1/missions", client, json=body, expect=201)["id"]

    contracted = publish()
    story.call("POST", f"/api/v1/proposals/{propose(contracted)['id']}/accept", client)
    tasks = story.call("GET", f"/api/v1/missions/{contracted}/tasks", client)["items"]
    return {"mission_id": contracted, "task_id": tasks[0]["id"], "proposal_id": propose(publish())["id"]}


@pytest.fixture(scope="module")
def fuzzed(servers_platform: Any) -> Iterator[dict[str, Any]]:
    story = Story(servers_platform.gateway_url, servers_platform.stripe_url, say=lambda _: None)
    tokens = {role: story.sign_up(role, "Fuzz", role.title())[1] for role in ROLES}
    with requests.Session() as session:
        yield {
            "base_url": servers_platform.gateway_url,
            "tokens": tokens,
            "session": session,
            "ids": real_resources(story, tokens["client"], tokens["pro"]),
        }


CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZING = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz_failures(role: str, fuzzed: dict[str, Any]) -> list[str]:
    """Fuzz every operation as ``role``; what went wrong, one line per operation."""
    schema = schemathesis.openapi.from_url(f"{fuzzed['base_url']}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {fuzzed['tokens'][role]}"}
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30, "the merged document lost operations"
    for operation, mode, real in itertools.product(operations, GenerationMode, (False, True)):
        names = re.findall(r"\{(\w+)\}", operation.path)
        if real and not names:
            continue
        # Generated ids mostly meet a 404; real ones reach the service's rules with fuzzed input.
        ids = {name: fuzzed["ids"][name] for name in names if name in fuzzed["ids"]} if real else None

        @given(case=operation.as_strategy(mode, path_parameters=ids))
        @FUZZING
        def fuzz(case: Any) -> None:
            response = case.call(base_url=fuzzed["base_url"], session=fuzzed["session"], headers=headers)
            sent = (
                f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r:.300}"
                f" -> {response.status_code} {response.text[:300]}"
            )
            assert response.status_code < 500, sent
            if response.status_code >= 400:
                content_type = response.headers.get("content-type", [""])[0]  # name -> values
                assert content_type.startswith("application/problem+json"), sent
                problem = response.json()
                assert problem["status"] == response.status_code and problem["code"], sent
            # And the answer is one the document announces (status, media type, body schema).
            case.validate_response(response, checks=CONFORMANCE)

        try:
            fuzz()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # nothing in it can be made invalid
        except (AssertionError, FailureGroup) as exc:  # hypothesis re-raises the smallest failing case
            failures.append(f"{operation.label} ({mode}{', real ids' if real else ''}): {exc}")
    return failures


# pytest 9 and schemathesis' own pytest integration (from_fixture) disagree, hence the loop above
# rather than one generated test per operation; a failure still names the operation and the call.
def test_a_client_never_gets_a_500_nor_an_undocumented_answer(fuzzed: dict[str, Any]) -> None:
    failures = fuzz_failures("client", fuzzed)
    assert not failures, "\n".join(failures)


def test_a_professional_never_gets_a_500_nor_an_undocumented_answer(fuzzed: dict[str, Any]) -> None:
    failures = fuzz_failures("pro", fuzzed)
    assert not failures, "\n".join(failures)
