"""``clikopro-trust-safety scan``: the contact-detail detector as a filter, for moderators and scripts.

Reads messages on standard input, one a line, and writes one JSON line for each, in order, as soon as
it is read: ``{"masked": "...", "findings": [{"kind": "phone", "start": 15, "end": 29}]}``. Spans are
code-point offsets in the line (without its line ending). No database, no broker: the detector is pure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from clikopro_textguard import scan


def scan_lines(lines: Iterable[str], out: TextIO) -> int:
    count = 0
    for line in lines:
        result = scan(line.rstrip("\r\n"))
        findings = [{"kind": f.kind, "start": f.start, "end": f.end} for f in result.findings]
        out.write(json.dumps({"masked": result.masked, "findings": findings}, ensure_ascii=False) + "\n")
        out.flush()
        count += 1
    return count


def run(_runtime: Any, _args: argparse.Namespace) -> int:
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    scan_lines(sys.stdin, sys.stdout)
    return 0
