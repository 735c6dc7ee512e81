"""tests/unit starts no program: no unit test module reaches ``subprocess``, itself or through what it imports.

Programs (bgpdump, promtool, DNS servers, BGP speakers, routewatch as a process) belong to tests/oracle and
tests/integration. Keeping them out of tests/unit keeps that layer fast and runnable where none is installed.
The imports are read with ``ast`` and followed through the ``tests`` package, so a support module that runs a
program taints every unit test importing it, however indirectly.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
#: Modules whose import means starting programs.
PROCESS_MODULES = frozenset({"subprocess", "multiprocessing", "pty"})
#: Calls that start a program without importing one of those.
PROCESS_CALLS = frozenset({"create_subprocess_exec", "create_subprocess_shell", "system", "popen",
                           "spawnv", "spawnvp", "execv", "execvp", "posix_spawn"})


def module_path(name: str) -> Path | None:
    """The file of a module inside the ``tests`` package, or None for anything else."""
    if name != "tests" and not name.startswith("tests."):
        return None
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every module a file imports, relative imports resolved; ``from pkg import mod`` yields both."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def starts_programs_itself(path: Path) -> bool:
    tree = ast.parse(path.read_text(), str(path))
    calls = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    return any(name.split(".")[0] in PROCESS_MODULES for name in imported(path)) or bool(calls & PROCESS_CALLS)


@cache
def program_chain(path: Path) -> tuple[str, ...]:
    """The import chain from this file to one that starts programs, or () when there is none."""
    return _chain(path, frozenset())


def _chain(path: Path, seen: frozenset[Path]) -> tuple[str, ...]:
    if starts_programs_itself(path):
        return (module_name(path),)
    for name in imported(path):
        target = module_path(name)
        if target is not None and target not in seen and target != path:
            rest = _chain(target, seen | {path})
            if rest:
                return (module_name(path), *rest)
    return ()


def test_no_unit_test_module_reaches_a_program() -> None:
    offenders = {module_name(p): " -> ".join(chain) for p in sorted((TESTS / "unit").rglob("*.py"))
                 if (chain := program_chain(p))}
    assert offenders == {}


def test_the_check_sees_the_support_modules_that_start_programs() -> None:
    """Not vacuous: the modules that run bgpdump, servers or routewatch are found, directly or through imports."""
    support = TESTS / "support"
    for name in ("bgpdump", "daemon", "dns_servers", "bgp_speakers", "pki"):
        assert program_chain(support / f"{name}.py") == (f"tests.support.{name}",)
    assert program_chain(support / "visibility_oracle.py") == ("tests.support.visibility_oracle",
                                                                "tests.support.bgpdump")
    assert program_chain(support / "bgpdump_format.py") == ()
