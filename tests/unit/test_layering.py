"""Every import points down the layers of docs/architecture.md; the core is pure.

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


#: The packages from the top down (docs/architecture.md, "The layers"); a module imports only its own
#: package and those after it. ``model``, ``errors`` and ``slot_init`` sit under all of them.
LAYERS = ("cli", "demo", "daemon", "tools", "exporter", "alerting", "sources", "dns", "config", "core", "rpki")
BOTTOM = ("model", "errors", "slot_init")


def upward(path: Path, package_root: Path = PACKAGE) -> list[str]:
    """The names ``path`` imports from a layer above its own."""
    parts = path.relative_to(package_root).parts
    own = parts[0] if len(parts) > 1 else path.stem
    above = LAYERS[: LAYERS.index(own)] if own in LAYERS else LAYERS
    return sorted(name for name in imported(path, package_root)
                  if name.split(".")[:2][-1] in above and name.startswith("routewatch."))


def test_every_import_points_down_the_layers() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    tops = {p.relative_to(PACKAGE).parts[0] for p in modules} - {"__init__.py", "__main__.py"}
    assert tops == {*LAYERS, *(f"{name}.py" for name in BOTTOM)}  # a new package takes its place in LAYERS
    found = {str(p.relative_to(PACKAGE)): upward(p) for p in modules if p.parent != PACKAGE or p.stem in BOTTOM}
    assert {path: names for path, names in found.items() if names} == {}


def test_an_upward_import_is_seen(tmp_path: Path) -> None:
    """The check itself: rpki importing the config, a source importing the daemon, the model importing the core."""
    for name, text in [("rpki/feeds.py", "from routewatch.config.rpki import RpkiSettings\n"),
                       ("sources/bmp/station.py", "def f():\n    from ...daemon import runner\n"),
                       ("model.py", "import routewatch.core.engine\n")]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert upward(tmp_path / "rpki/feeds.py", tmp_path) == [
        "routewatch.config.rpki", "routewatch.config.rpki.RpkiSettings"]
    assert upward(tmp_path / "sources/bmp/station.py", tmp_path) == ["routewatch.daemon", "routewatch.daemon.runner"]
    assert upward(tmp_path / "model.py", tmp_path) == ["routewatch.core.engine"]


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
