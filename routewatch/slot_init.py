"""Cheaper construction for the frozen slotted dataclasses built once per message.

A frozen dataclass's generated ``__init__`` stores each field through
``object.__setattr__`` (it has to get past the class's own ``__setattr__``,
which raises), and the live path builds one or more events per message. A
ten-field announcement costs 0.99 us that way and 0.57 us here, about 5% of a
message through parser and core (bench/RESULTS.md, "Hand optimisations"): the
slots' own descriptors store into the same place at a fraction of the cost, so
:func:`init_through_slots` rebuilds ``__init__`` on them. Everything else stays as the dataclass made it: field
order, defaults, equality, hashing, and frozenness (assigning afterwards still
raises ``FrozenInstanceError``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def init_through_slots(cls: type[T]) -> type[T]:
    """Give a frozen, slotted dataclass with plain defaults a descriptor-based ``__init__``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} must be a frozen dataclass with slots=True")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__, which init_through_slots would skip")
    namespace: dict[str, Any] = {}
    arguments, body = [], []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init or field.kw_only or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: positional init fields with plain defaults only")
        namespace[f"_set_{field.name}"] = cls.__dict__[field.name].__set__
        if field.default is dataclasses.MISSING:
            arguments.append(field.name)
        else:
            namespace[f"_default_{field.name}"] = field.default
            arguments.append(f"{field.name}=_default_{field.name}")
        body.append(f"    _set_{field.name}(self, {field.name})")
    source = f"def __init__(self, {', '.join(arguments)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(source, namespace)  # noqa: S102 - the source is built from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 - replacing the generated method on purpose
    return cls
