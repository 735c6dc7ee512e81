"""The scalar values a config file is made of: prefixes, AS numbers, zone names, addresses.

Each is parsed once, at load, into its canonical form, and each explains
itself when wrong (``10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?``).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import BeforeValidator, Field

from routewatch.config.messages import describe
from routewatch.model import (
    AS_TRANS,
    Prefix,
    ZoneIndexError,
    canonical_address,
    intern_prefix,
    parse_asn,
    refuse_zone_index,
)

_NEVER_AN_ORIGIN = {
    0: "AS0 is reserved (RFC 7607) and is never a valid origin",
    AS_TRANS: f"AS{AS_TRANS} is AS_TRANS (RFC 6793), a placeholder that is never a real origin",
}


def parse_config_prefix(value: object) -> Prefix:
    """A canonical prefix; host bits are an error that names the network meant."""
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        refuse_zone_index(str(value))
        return intern_prefix(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a prefix such as 192.0.2.0/24, got {describe(value)}")
    text = refuse_zone_index(value.strip())
    try:
        return intern_prefix(ipaddress.ip_network(text, strict=True))
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid prefix (expected e.g. 192.0.2.0/24 or 2001:db8::/32)") from None
    raise ValueError(f"{text} has host bits set; did you mean {loose}?")


def parse_config_asn(value: object) -> int:
    """An AS number that can be an origin: ``32934`` or ``"AS32934"``, not AS0 or AS_TRANS."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected an AS number such as 32934 or 'AS32934', got {describe(value)}")
    asn = parse_asn(value)
    if asn in _NEVER_AN_ORIGIN:
        raise ValueError(_NEVER_AN_ORIGIN[asn])
    return asn


def parse_asn_list(value: object) -> tuple[int, ...]:
    """One AS number or a list of them, each once."""
    items = value if isinstance(value, list | tuple) else [value]
    asns = tuple(parse_config_asn(item) for item in items)
    repeated = sorted({asn for asn in asns if asns.count(asn) > 1})
    if repeated:
        raise ValueError(f"AS{repeated[0]} is listed more than once")
    return asns


def parse_zone_name(value: object) -> str:
    """A zone name, lower-case with a final dot, so ``Example.COM`` and ``example.com.`` are one zone."""
    if not isinstance(value, str) or not value.strip(".").strip():
        raise ValueError(f"expected a zone name such as example.com, got {describe(value)}")
    name = value.strip().rstrip(".").lower()
    labels = name.split(".")
    if any(not label or len(label) > 63 or any(c.isspace() for c in label) for label in labels):
        raise ValueError(f"{value!r} is not a valid zone name (empty, over-long or blank-containing label)")
    if len(name) > 253:
        raise ValueError(f"{value!r} is not a valid zone name (longer than 253 characters)")
    return name + "."


def parse_address(value: object) -> str:
    """An IP address in canonical compressed text."""
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address such as 192.0.2.1, got {describe(value)}")
    try:
        return canonical_address(value)
    except ZoneIndexError:
        raise
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address (expected e.g. 127.0.0.1 or ::)") from None


def parse_peer(value: object) -> str:
    """A peer to exclude: ``AS3453`` (or ``3453``: every session of that AS), an address or a network of them.

    Returned canonical: ``AS<n>``, a compressed address, or a network without host bits.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return f"AS{parse_asn(value)}"
    if not isinstance(value, str):
        raise ValueError(f"expected a peer address, a network or an AS number such as AS3453, got {describe(value)}")
    text = value.strip()
    if text[:2].upper() == "AS" or text.isdigit():
        return f"AS{parse_asn(text)}"
    if "/" in text:
        return str(parse_config_prefix(text))
    try:
        return canonical_address(text)
    except ZoneIndexError:
        raise
    except ValueError:
        raise ValueError(f"{text!r} is neither a peer address, a network nor an AS number "
                         "(expected e.g. 192.0.2.1, 192.0.2.0/24 or AS3453)") from None


PrefixField = Annotated[Prefix, BeforeValidator(parse_config_prefix)]
AsnField = Annotated[int, BeforeValidator(parse_config_asn)]
AsnListField = Annotated[tuple[int, ...], BeforeValidator(parse_asn_list)]
ZoneField = Annotated[str, BeforeValidator(parse_zone_name)]
AddressField = Annotated[str, BeforeValidator(parse_address)]
PeerField = Annotated[str, BeforeValidator(parse_peer)]
Ratio = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(gt=0)]
Name = Annotated[str, Field(min_length=1)]
