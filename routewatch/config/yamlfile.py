"""Read a YAML file strictly: every problem as ``line L, column C: ...`` text.

PyYAML keeps the last of two equal keys in a mapping without a word, so a
second ``asn:`` under one prefix, or a second ``exporter:`` section, would
silently replace the first. Configuration must never lose what the operator
wrote, so a repeated key is reported here, with both lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records repeated mapping keys instead of dropping them."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated_keys: list[tuple[int, int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[object, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                column = key_node.start_mark.column + 1
                text = (
                    f"line {line}, column {column}: key {key!r} appears again in the same mapping "
                    f"(first at line {first_line[key]}); YAML would keep only the last value"
                )
                self.repeated_keys.append((line, column, text))
            else:
                first_line[key] = line
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if not context:
        detail = problem
    elif problem.startswith("but "):
        detail = f"{context}, {problem}"
    else:
        detail = f"{problem} ({context})"
    return f"{where}: invalid YAML: {detail}"


def parse_yaml(text: str) -> tuple[object, list[str]]:
    """The document and the problems found while reading it (empty when clean).

    When the text is not YAML at all the document is None and the single
    problem says where the parser stopped.
    """
    loader = _StrictLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc)]
    finally:
        loader.dispose()
    return document, [text for _, _, text in sorted(loader.repeated_keys)]


def read_yaml(path: Path) -> tuple[object, list[str]]:
    """Like :func:`parse_yaml`, for a file; an unreadable file is one problem, not an exception."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [f"(file): cannot read: {exc.strerror or exc}"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [f"(file): not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line})"]
    return parse_yaml(text)
