"""Fail if a service imports another service, or a shared package imports a service.

Services may import the shared packages (clikopro_chassis, clikopro_contracts)
and their own package only (ARCHITECTURE.md: dependencies point one way).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = {"clikopro_chassis", "clikopro_contracts", "clikopro_textguard"}


#: Shared packages that import no other of ours: the contracts, and the detector (pure French-text
#: knowledge, no mechanism).
_LEAVES = {"clikopro_contracts", "clikopro_textguard"}


def packages() -> dict[str, Path]:
    found = {}
    for project in [
        *sorted((ROOT / "services").iterdir()),
        ROOT / "gateway",
        ROOT / "shared" / "chassis",
        ROOT / "shared" / "contracts",
        ROOT / "shared" / "textguard",
    ]:
        for init in (project / "src").glob("clikopro_*/__init__.py"):
            found[init.parent.name] = project
    return found


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def main() -> int:
    pkgs = packages()
    problems = []
    for own, project in pkgs.items():
        allowed = {own} | (set() if own in _LEAVES else SHARED)
        for path in project.rglob("*.py"):
            if {".venv", "build"} & set(path.parts):
                continue
            for name in imported_modules(path):
                if name.startswith("clikopro_") and name in pkgs and name not in allowed:
                    problems.append(f"{path.relative_to(ROOT)}: {own} imports {name}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} forbidden import(s): a service imports only itself and the shared packages.")
        return 1
    print(f"boundaries ok: {len(pkgs)} packages, no service imports another")
    return 0


if __name__ == "__main__":
    sys.exit(main())
