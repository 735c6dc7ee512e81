"""Turn pydantic's validation errors into lines an operator can act on.

pydantic speaks of "Input should be a valid list" and of union tags; an
operator editing YAML wants ``sources[1].type: unknown source type 'foo'
(expected one of: ris-live, bgpstream, mrt)`` and, for a misspelt key, the key
that was probably meant. Each error becomes one ``path: message`` line.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

_EXPECTED_TYPE = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}

_BOUNDS = {
    "greater_than": ("gt", "must be greater than"),
    "greater_than_equal": ("ge", "must be at least"),
    "less_than": ("lt", "must be less than"),
    "less_than_equal": ("le", "must be at most"),
}


def describe(value: object) -> str:
    """What a YAML value is, in YAML's words: ``a string ('60s')``, ``a list``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _number(value: object) -> object:
    """``0.0`` -> ``0``: bounds read as the operator would write them."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation can hold: ``list[A]``, ``A | None``, ``Annotated[A | B, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (list, tuple, typing.Union, types.UnionType):
        return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]
    return []


def _models_at(root: type[BaseModel], loc: Sequence[int | str]) -> list[type[BaseModel]]:
    """The models whose keys are valid at ``loc``; several for a union not yet picked by its tag."""
    candidates = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        by_tag = [m for m in candidates if _tag_of(m) == part]
        if by_tag:
            candidates = by_tag
            continue
        fields = [m.model_fields[part] for m in candidates if part in m.model_fields]
        if not fields:
            return []
        candidates = _models_in(fields[0].annotation)
    return candidates


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def union_tags(root: type[BaseModel]) -> set[str]:
    """Every discriminator tag under ``root``: pydantic puts them into error locations."""
    tags: set[str] = set()
    seen: set[type[BaseModel]] = set()
    pending = [root]
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        tag = _tag_of(model)
        if tag is not None:
            tags.add(tag)
        for field in model.model_fields.values():
            pending.extend(_models_in(field.annotation))
    return tags


def location(loc: Sequence[int | str], tags: set[str]) -> str:
    """``('prefixes', 3, 'asn')`` -> ``prefixes[3].asn``, leaving out pydantic's own parts.

    A union member's tag follows a list index (``sources, 1, 'mrt'``); a key
    that merely looks like a tag elsewhere is the user's and is kept. Keys that
    are not plain names (an address in ``service_prefixes``) are quoted.
    """
    text = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif (part in tags and isinstance(previous, int)) or part == "[key]" or part.startswith("function-"):
            pass
        elif not part.replace("_", "a").isalnum():
            text += f'["{part}"]'
        else:
            text += f".{part}" if text else part
        previous = part
    return text or "(top level)"


def _unknown_key(root: type[BaseModel], loc: Sequence[int | str]) -> str:
    models = _models_at(root, loc[:-1])
    key = loc[-1]
    if len(models) != 1 or not isinstance(key, str):
        return "unknown key"
    model = models[0]
    close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
    if close:
        return f"unknown key (did you mean {close[0]!r}?)"
    return "unknown key (expected one of: " + ", ".join(model.model_fields) + ")"


def message(root: type[BaseModel], error: Mapping[str, Any]) -> tuple[str, str]:
    """``(suffix to add to the location, message)`` for one pydantic error."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        return "", _unknown_key(root, error["loc"])
    if kind == "missing":
        return "", "required key is missing"
    if kind == "union_tag_invalid":
        expected = ctx.get("expected_tags", "").replace("'", "")
        return ".type", f"unknown source type {ctx.get('tag')!r} (expected one of: {expected})"
    if kind == "union_tag_not_found":
        tags = [tag for model in _models_at(root, error["loc"]) if (tag := _tag_of(model))]
        return ".type", "required key is missing (expected one of: " + ", ".join(tags) + ")"
    if kind in _EXPECTED_TYPE:
        return "", f"expected {_EXPECTED_TYPE[kind]}, got {describe(value)}"
    if kind == "literal_error":
        return "", f"expected {ctx.get('expected')}, got {describe(value)}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return "", f"{words} {_number(ctx.get(key))}, got {value!r}"
    if kind == "string_too_short":
        return "", "must not be empty"
    if kind == "too_short":
        return "", "must not be empty" if ctx.get("min_length") == 1 else str(error.get("msg"))
    text = str(error.get("msg", ""))
    for noise in ("Value error, ", "Assertion failed, "):
        text = text.removeprefix(noise)
    return "", text


def problem_lines(root: type[BaseModel], errors: Sequence[Mapping[str, Any]], prefix: str = "") -> list[str]:
    """One ``path: message`` line per error; ``prefix`` places a sub-model's errors in the file."""
    tags = union_tags(root)
    lines = []
    for error in errors:
        suffix, text = message(root, error)
        where = location(error["loc"], tags) if error["loc"] else ""
        path = ".".join(part for part in (prefix, where) if part) or "(top level)"
        lines.append(f"{path}{suffix}: {text}")
    return lines
