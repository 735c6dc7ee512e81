"""``routewatch config validate`` and ``import-bgpalerter`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.config.schema import load_config, parse_config
from routewatch.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFIGS = FIXTURES / "config"
BGPALERTER = FIXTURES / "bgpalerter"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_good_file() -> None:
    path = CONFIGS / "valid-full.yaml"
    code, out, err = run("config", "validate", str(path))
    assert (code, err) == (0, "")
    assert out == f"{path}: OK (2 prefixes, 1 ASNs, 1 zones, 3 sources)\n"


def test_validate_bad_file_lists_every_problem_on_stderr() -> None:
    path = CONFIGS / "invalid-six-problems.yaml"
    code, out, err = run("config", "validate", str(path))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == f"{path}: 6 problem(s):"
    assert lines[1:] == [f"  {p}" for p in _problems(path)]


def test_validate_missing_file() -> None:
    code, out, err = run("config", "validate", "/nonexistent/routewatch.yaml")
    assert (code, out) == (1, "")
    assert err == "/nonexistent/routewatch.yaml: 1 problem(s):\n  (file): cannot read: No such file or directory\n"


def test_import_to_stdout_warns_on_stderr() -> None:
    path = BGPALERTER / "prefixes-every-key.yml"
    code, out, err = run("config", "import-bgpalerter", str(path))
    assert code == 0
    config = parse_config(yaml.safe_load(out))
    assert [str(w.prefix) for w in config.prefixes] == ["165.254.255.0/24", "192.147.168.0/24", "94.5.4.0/22"]
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 11  # path rules and monitorASns neighbours are carried over, not warned about
    assert "warning: 165.254.255.128/25: not watched (ignore: true)" in err
    assert "warning: 165.254.255.0/24.excludeMonitors: not imported" in err
    assert err.splitlines()[-1] == f"{path}: converted (3 prefixes, 3 ASNs, 11 warning(s))"


def test_import_to_file(tmp_path: Path) -> None:
    target = tmp_path / "routewatch.yaml"
    code, out, err = run("config", "import-bgpalerter", str(BGPALERTER / "prefixes-handwritten.yml"), "-o", str(target))
    assert (code, out) == (0, "")
    assert err.endswith(f"converted to {target} (3 prefixes, 0 ASNs, 0 warning(s))\n")
    config = load_config(target)
    assert [w.description for w in config.prefixes] == [
        "a.ns.facebook.com", "c.ns.facebook.com", "a.ns.facebook.com IPv6"
    ]


def test_import_rejects_a_routewatch_config() -> None:
    path = CONFIGS / "valid-minimal.yaml"
    code, out, err = run("config", "import-bgpalerter", str(path))
    assert (code, out) == (1, "")
    assert err == (
        f"{path}: not a BGPalerter prefixes file:\n"
        "  'prefixes': neither a prefix nor 'options'\n"
        "  (top level): this looks like a routewatch config already, not a BGPalerter file\n"
    )


def test_import_rejects_invalid_yaml() -> None:
    path = CONFIGS / "invalid-yaml.yaml"
    code, out, err = run("config", "import-bgpalerter", str(path))
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}: cannot be read as YAML:\n  line 4, column 11: invalid YAML: ")


def test_import_reports_a_repeated_prefix_key(tmp_path: Path) -> None:
    path = tmp_path / "prefixes.yml"
    path.write_text("10.0.0.0/8:\n  asn: 1\n  ignoreMorespecifics: false\n10.0.0.0/8:\n  asn: 2\n")
    code, out, err = run("config", "import-bgpalerter", str(path))
    assert (code, out) == (1, "")
    assert "line 4, column 1: key '10.0.0.0/8' appears again in the same mapping (first at line 1)" in err


def test_import_cannot_write(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "out.yaml"
    code, out, err = run("config", "import-bgpalerter", str(BGPALERTER / "prefixes-handwritten.yml"), "-o", str(target))
    assert (code, out) == (1, "")
    assert err == f"{target}: cannot write:\n  No such file or directory\n"


def _problems(path: Path) -> list[str]:
    try:
        load_config(path)
    except ConfigError as exc:
        return exc.problems
    raise AssertionError(f"{path} should be invalid")


def test_an_mrt_source_without_files_is_fine_for_replay_but_not_for_run(tmp_path) -> None:
    from routewatch.config.schema import load_config
    from routewatch.errors import ConfigError

    config = tmp_path / "archives.yaml"
    config.write_text("prefixes:\n  - prefix: 84.205.64.0/24\n    asn: 12654\nsources:\n  - type: mrt\n")
    assert load_config(config).sources[0].files == []
    try:
        load_config(config, daemon=True)
    except ConfigError as exc:
        assert [p.split(":")[0] for p in exc.problems] == ["sources[0].files"]
    else:
        raise AssertionError("routewatch run accepted an mrt source without files")
