"""Run benchmarks: ``python -m bench.run [names...]`` (default: all of them).

Each benchmark is a module of this package with ``main(argv) -> int``; it
prints its table, writes ``bench/results/<name>.json`` and owns its section
of ``docs/benchmarks.md``. Options of one benchmark: ``python -m bench.<name> --help``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

#: name -> module. Add a benchmark here.
BENCHMARKS: dict[str, str] = {
    "events_pipeline": "bench.events_pipeline",
    "missions": "bench.missions",
    "gateway": "bench.gateway",
    "textguard": "bench.textguard",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    failed = []
    for name in args.names or list(BENCHMARKS):
        print(f"=== {name} ===", flush=True)
        started = time.monotonic()
        code = importlib.import_module(BENCHMARKS[name]).main([])
        print(f"=== {name}: {'ok' if code == 0 else f'FAILED ({code})'} in {time.monotonic() - started:.0f}s")
        if code:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
