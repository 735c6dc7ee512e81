"""Every class name in routewatch is defined once, so a name in a traceback, a log or a review means one thing.

Read with ``ast`` over the package's source (nested classes included), without importing it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "routewatch"


def class_definitions() -> dict[str, set[str]]:
    """Each class name and the modules (paths from the repository root) that define it."""
    defined: defaultdict[str, set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), module)):
            if isinstance(node, ast.ClassDef):
                defined[node.name].add(module)
    return defined


def test_no_class_name_is_defined_twice() -> None:
    duplicates = {name: modules for name, modules in class_definitions().items() if len(modules) > 1}
    assert duplicates == {}
