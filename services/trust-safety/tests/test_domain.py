"""Pure rules of incidents: scope, what is held, the refund's allocation, overdue answers, file types."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from trust_safety_helpers import JPEG, PDF, png

from clikopro_trust_safety.domain.attachments import recognise
from clikopro_trust_safety.domain.incidents import (
    HeldTask,
    allocate_refund,
    answer_overdue,
    answerers,
    effective_scope,
    resolution_notice,
)

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))


def task(task_id, position, amount, *, released=False, refunded=0, status="pending"):
    return {
        "task_id": task_id, "position": position, "amount_cents": amount, "released": released,
        "refunded_cents": refunded, "status": status,
    }  # fmt: skip


def test_the_scope_is_the_named_tasks_else_every_task_not_released() -> None:
    tasks = [task(A, 1, 100, released=True), task(B, 2, 100, refunded=30), task(C, 3, 50, status="cancelled")]
    assert effective_scope(tasks, [], secured=True) == [HeldTask(B, 2, 70)]
    assert effective_scope(tasks, [A, B], secured=True) == [HeldTask(A, 1, 0), HeldTask(B, 2, 70)]
    assert effective_scope(tasks, [B], secured=False) == [HeldTask(B, 2, 0)]


@pytest.mark.parametrize(
    ("amount", "cuts"),
    [
        (1, {C: 1}),
        (50, {C: 50}),
        (51, {C: 50, B: 1}),
        (150, {C: 50, B: 70, A: 30}),
        (220, {C: 50, B: 70, A: 100}),
    ],
)
def test_a_partial_refund_is_taken_from_the_last_task_first(amount, cuts) -> None:
    scope = [HeldTask(A, 1, 100), HeldTask(B, 2, 70), HeldTask(C, 3, 50)]
    assert allocate_refund(scope, amount) == cuts
    with pytest.raises(ValueError):
        allocate_refund(scope, 221)


def test_an_answer_is_overdue_past_the_deadline_only_while_open_and_unanswered() -> None:
    due = dt.datetime(2026, 3, 17, 9, tzinfo=dt.UTC)
    incident = {"status": "open", "answered_at": None, "answer_due_at": due}
    assert not answer_overdue(incident, due - dt.timedelta(seconds=1))
    assert answer_overdue(incident, due)
    assert not answer_overdue({**incident, "answered_at": due}, due + dt.timedelta(days=1))
    assert not answer_overdue({**incident, "status": "resolved"}, due + dt.timedelta(days=1))
    assert answerers("client") == ("pro",) and answerers("pro") == ("client",)
    assert answerers("system") == ("client", "pro")


def test_the_notice_names_the_mediator_and_the_courts() -> None:
    notice = resolution_notice(
        "partial_refund", 123_456, "Motif.", mediator_name="Médiateur X", mediator_url="https://x.example"
    )
    assert "1\u202f234,56 €" in notice and "Médiateur X (https://x.example)" in notice
    assert "L612-1" in notice and "tribunal" in notice and "Motif." in notice


def test_files_are_recognised_by_their_content() -> None:
    assert recognise(PDF) == "application/pdf"
    assert recognise(JPEG) == "image/jpeg"
    assert recognise(png(3, 2)) == "image/png"
    for junk in (b"", b"GIF89a...", b"%PDF-1.7 no end", b"\xff\xd8\xff\xe0 truncated", png()[:30], b"<svg/>"):
        assert recognise(junk) is None
