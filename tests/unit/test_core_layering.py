"""The core is pure: no module under routewatch/core imports a layer above it.

Read from the source with ``ast`` (every import, at module level or inside a
function), so an import that only runs on some path is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import routewatch

FORBIDDEN = ("config", "sources", "dns", "exporter", "daemon", "tools", "cli")
PACKAGE = Path(routewatch.__file__).parent


def imported(path: Path, package_root: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved against its package)."""
    package = ["routewatch", *path.relative_to(package_root).with_suffix("").parts[:-1]]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def violations(path: Path, package_root: Path = PACKAGE) -> list[str]:
    return sorted(name for name in imported(path, package_root)
                  if any(name == f"routewatch.{layer}" or name.startswith(f"routewatch.{layer}.")
                         for layer in FORBIDDEN))


def test_core_imports_no_higher_layer() -> None:
    modules = sorted((PACKAGE / "core").rglob("*.py"))
    assert len(modules) > 10  # the walk found the core
    found = {str(p.relative_to(PACKAGE)): violations(p) for p in modules}
    assert {path: names for path, names in found.items() if names} == {}


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    """Absolute, from-, relative and function-level imports are all seen."""
    module = tmp_path / "core" / "detectors" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text("import routewatch.dns.probe\nfrom routewatch.config import schema\n"
                      "from ...sources import base\nfrom ..table import RouteTable\n"
                      "def f():\n    from routewatch import exporter\n")
    assert violations(module, tmp_path) == [
        "routewatch.config", "routewatch.config.schema", "routewatch.dns.probe",
        "routewatch.exporter", "routewatch.sources", "routewatch.sources.base",
    ]
