"""Pure rules: commission split, release transitions, ledger postings — as tables."""

from __future__ import annotations

import pytest

from clikopro_payments.domain import ledger
from clikopro_payments.domain.money import (
    allocate_refund,
    commission_of,
    release_commission,
    split_commission,
)
from clikopro_payments.domain.releases import RELEASE_TRANSITIONS, TransitionRefused, blocker, check_release


@pytest.mark.parametrize(
    ("tasks", "bps", "commission", "shares"),
    [
        ([45_000, 120_000, 85_000], 500, 12_500, [2250, 6000, 4250]),
        ([45_011, 120_007, 85_015], 500, 12_501, [2250, 6000, 4251]),  # the last absorbs the remainder
        ([100, 100, 100], 500, 15, [5, 5, 5]),
        ([1, 1, 1], 500, 0, [0, 0, 0]),  # 1-cent tasks: floor(3 * 5 %) = 0
        ([1], 10_000, 1, [1]),
        ([333, 333, 333, 1], 5_000, 500, [166, 166, 167, 1]),  # tiny last task: the excess spills back
        ([999, 1], 10_000, 1000, [999, 1]),
        ([10_000] * 7, 333, 2331, [333] * 7),
        ([1] * 100, 9_999, 99, [0] + [1] * 99),  # 99 cents over 100 one-cent tasks, the last first
        ([50_000, 25_000], 0, 0, [0, 0]),  # 0 bps
    ],
)
def test_commission_split(tasks: list[int], bps: int, commission: int, shares: list[int] | None) -> None:
    assert commission_of(sum(tasks), bps) == commission
    got = split_commission(tasks, commission)
    assert sum(got) == commission  # exactly, to the cent
    assert all(0 <= share <= amount for share, amount in zip(got, tasks, strict=True))  # never a negative net
    if shares is not None:
        assert got == shares


def test_many_tasks_with_one_cent_each_keep_the_sum_and_never_exceed_a_task() -> None:
    tasks = [1] * 100
    got = split_commission(tasks, commission_of(100, 9_999))
    assert sum(got) == 99 and max(got) == 1


@pytest.mark.parametrize(
    ("remaining", "refund", "taken"),
    [([100, 200, 300], 0, [0, 0, 0]), ([100, 200, 300], 350, [0, 50, 300]), ([100, 200], 300, [100, 200])],
)
def test_a_refund_takes_the_last_tasks_first(remaining: list[int], refund: int, taken: list[int]) -> None:
    assert allocate_refund(remaining, refund) == taken
    with pytest.raises(ValueError):
        allocate_refund(remaining, sum(remaining) + 1)


def test_a_cut_release_keeps_the_rate_on_what_is_released() -> None:
    assert release_commission(10_000, 512, 10_000, 500) == 512
    assert release_commission(10_000, 512, 4_001, 500) == 200


TABLE = [
    ("pending", "transferring", True),
    ("waiting_for_account", "transferring", True),
    ("frozen", "refunded", True),
    ("failed", "transferring", True),
    ("transferring", "released", True),
    ("transferring", "failed", True),
    ("transferring", "transferring", True),  # a stale claim re-checked
    ("released", "transferring", False),
    ("released", "refunded", False),
    ("refunded", "pending", False),
    ("pending", "released", False),  # only through a claim
    ("transferring", "pending", False),
]


@pytest.mark.parametrize(("current", "target", "allowed"), TABLE)
def test_release_transitions(current: str, target: str, allowed: bool) -> None:
    if allowed:
        check_release(current, target)
    else:
        with pytest.raises(TransitionRefused):
            check_release(current, target)
    assert set(RELEASE_TRANSITIONS) >= {current}


def test_what_blocks_a_release_in_the_order_a_person_would_fix_it() -> None:
    assert blocker(payment_secured=False, frozen=True, account_ready=False) == "waiting_payment"
    assert blocker(payment_secured=True, frozen=True, account_ready=False) == "frozen"
    assert blocker(payment_secured=True, frozen=False, account_ready=False) == "waiting_for_account"
    assert blocker(payment_secured=True, frozen=False, account_ready=True) is None


def test_postings_balance_and_the_invariants_hold() -> None:
    entries = [
        *ledger.capture(250_033),
        *ledger.release(42_761, 2250),
        *ledger.release(114_007, 6000),
        *ledger.refund(80_000),
        *ledger.release(764, 4251),
    ]
    balances = ledger.balances_of(entries)
    assert sum(balances.values()) == 0
    assert balances["escrow"] == 0
    assert (
        balances["pro"] + balances["commission"] + 80_000 == 250_033
    )  # released + commission + refunded = captured
    with pytest.raises(ValueError):
        ledger.Entry("escrow", "debit", 0)
