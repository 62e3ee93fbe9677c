"""The detector runs on every stored text: linear time, no catastrophic backtracking. Timed in CPU
time (process_time): the machine running the tests may be loaded."""

import time

import pytest

from clikopro_textguard import scan

HOSTILE = [
    "a" * 50_000,
    "a." * 25_000,
    "1 " * 25_000,
    "06 " * 20_000,
    "zéro six " * 8_000,
    "paul arobase " * 5_000,
    "www point " * 5_000,
    "fr76 " * 10_000,
    "@" * 50_000,
    "a@" * 25_000,
    "x-" * 25_000,
    ("paul.martin" + " " * 3) * 4_000,
    "FR7630006000011234567890189" * 2_000,
    "0612345678 " * 5_000,
    "🙂" * 30_000,
    "en liquide " * 5_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]))
def test_a_long_hostile_input_is_scanned_quickly(text):
    started = time.process_time()
    scan(text)
    assert time.process_time() - started < 2.0


def test_time_grows_linearly_with_the_length():
    unit = "Bonjour, 1 200 € le 06/12 à 14h30, appelez le 06 12 34 56 78 ou paul arobase gmail point com. "

    def timed(n: int) -> float:
        started = time.process_time()
        scan(unit * n)
        return time.process_time() - started

    timed(50)
    small, large = min(timed(200) for _ in range(3)), min(timed(2000) for _ in range(3))
    assert large < small * 10 * 2.5  # ten times the text: well under a quadratic 100 times
