"""``routewatch generate``: write a config listing what ASes announce.

From RIPEstat (announced-prefixes) by default, or offline from MRT files (the
prefixes peers route to the AS at the end of the data). ``--zones`` adds the
zones whose nameservers sit in those prefixes, resolving the nameservers with
dnspython (``--resolver`` names the server to ask; default: the system's).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import dns.exception
import dns.rdatatype
import dns.resolver

from routewatch.cli.route_inputs import replay_files, ripestat_announced
from routewatch.config.schema import RipestatSettings, load_config, parse_config
from routewatch.config.yamlfile import read_yaml
from routewatch.errors import ConfigError, RoutewatchError
from routewatch.model import Address, Prefix, parse_asn, parse_prefix
from routewatch.tools.generate import merge, render, select, zones_served
from routewatch.tools.reports import EXIT_UNCHECKED, VisibilityObservation, originated_prefixes, seen_originating

T = TypeVar("T")

#: Far above any AS's prefix count: generate lists everything it finds.
_DISCOVERY_CAP = 1_000_000


def _fail(message: str) -> None:
    click.echo(f"routewatch: could not generate: {message}", err=True)
    sys.exit(EXIT_UNCHECKED)


def _parse_all(kind: str, parse: Callable[[str], T], values: Sequence[str]) -> list[T]:
    out = []
    for value in values:
        try:
            out.append(parse(value))
        except ValueError as exc:
            raise RoutewatchError(f"{kind} {value!r}: {exc}") from None
    return out


def found_in_files(asns: Sequence[int], paths: Sequence[str]
                   ) -> tuple[dict[Prefix, frozenset[int]], dict[Prefix, frozenset[int]]]:
    """The prefixes the data showed ``asns`` originating: (still routed at its end, withdrawn by then).

    The same prefixes ``check asn`` lists over the same files.
    """
    observation = VisibilityObservation.of_asns(asns, _DISCOVERY_CAP)
    replay_files(observation, paths)
    routed = originated_prefixes(observation.monitor.table, frozenset(asns))
    seen = seen_originating(observation, asns)
    return routed, {p: origins for p, origins in seen.items() if p not in routed}


def found_online(settings: RipestatSettings, asns: Sequence[int]) -> dict[Prefix, frozenset[int]]:
    found: dict[Prefix, set[int]] = {}
    for asn, prefixes in asyncio.run(ripestat_announced(settings, asns)).items():
        for prefix in prefixes:
            found.setdefault(prefix, set()).add(asn)
    return {p: frozenset(a) for p, a in found.items()}


def nameserver_addresses(zone: str, resolver: dns.resolver.Resolver) -> list[Address]:
    """Every A and AAAA of every NS of ``zone``; a zone that does not resolve raises RoutewatchError."""
    try:
        names = [r.target for r in resolver.resolve(zone, dns.rdatatype.NS)]  # type: ignore[attr-defined]
    except dns.exception.DNSException as exc:
        raise RoutewatchError(f"zone {zone}: cannot resolve its NS set: {exc}") from None
    found: list[Address] = []
    for name in names:
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            try:
                found.extend(ipaddress.ip_address(r.address) for r in resolver.resolve(name, rdtype))  # type: ignore[attr-defined]
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            except dns.exception.DNSException as exc:
                raise RoutewatchError(f"zone {zone}: cannot resolve nameserver {name}: {exc}") from None
    return found


def make_resolver(servers: Sequence[str], port: int, timeout: float) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = list(servers)
        resolver.port = port
    resolver.lifetime = timeout
    return resolver


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    handle, temporary = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, target)


def _nothing_found(asns: Sequence[int], excluded_all: bool, withdrawn: int) -> str:
    who = ", ".join(f"AS{a}" for a in asns)
    if excluded_all:
        return f"no prefixes found for {who} (after --exclude)"
    if withdrawn:
        return (f"{who}: {withdrawn} prefixes seen originated in these files, all withdrawn by the end of the data "
                "(--include-withdrawn lists them)")
    return f"no prefixes found for {who}"


@click.command("generate")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--asn", "asns", multiple=True, required=True, metavar="ASN",
              help="AS whose prefixes to list; repeatable.")
@click.option("--mrt", "mrt", multiple=True, metavar="FILE",
              help="Read MRT files (a RIB dump, updates) offline; repeatable, and further file arguments are read "
                   "too (--mrt F1 F2 ...), as check asn reads them.")
@click.option("--include-withdrawn", is_flag=True,
              help="With --mrt: also list prefixes the ASes originated in the files but no peer routed at the end.")
@click.option("--exclude", "excludes", multiple=True, metavar="PREFIX",
              help="Leave this prefix and everything inside it out; repeatable.")
@click.option("--append", "append_to", type=click.Path(dir_okay=False, exists=True), metavar="CONFIG",
              help="Merge into this existing config: prefixes it lists stay as written, new ones are added.")
@click.option("--zones", "zones", multiple=True, metavar="ZONE",
              help="Add the zone if one of its nameservers sits in a listed prefix; repeatable.")
@click.option("--resolver", "resolvers", multiple=True, metavar="ADDRESS",
              help="DNS server to resolve --zones with; default: the system's resolvers.")
@click.option("--resolver-port", default=53, show_default=True, type=click.IntRange(1, 65535))
@click.option("--ignore-more-specifics", is_flag=True, help="Mark every listed prefix ignore_more_specifics.")
@click.option("--group", default="default", show_default=True, help="Alert group of the listed prefixes.")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              help="Config to take RIPEstat settings from (default: the --append config, if any).")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write here (default: standard output).")
def generate(files: tuple[str, ...], asns: tuple[str, ...], mrt: tuple[str, ...], include_withdrawn: bool,
             excludes: tuple[str, ...], append_to: str | None, zones: tuple[str, ...], resolvers: tuple[str, ...],
             resolver_port: int, ignore_more_specifics: bool, group: str, config_path: str | None,
             output: str | None) -> None:
    """Write a routewatch config listing the prefixes the given ASes announce."""
    mrt = (*mrt, *files)
    try:
        numbers: list[int] = _parse_all("AS number", parse_asn, asns)
        excluded: list[Prefix] = _parse_all("prefix", parse_prefix, excludes)
        settings_from = config_path or append_to
        settings = load_config(settings_from).ripestat if settings_from else RipestatSettings()
        existing: dict[str, Any] | None = None
        if append_to:
            load_config(append_to)  # refuse to merge into an invalid config
            document, _ = read_yaml(Path(append_to))
            existing = dict(document) if isinstance(document, dict) else None
        withdrawn: dict[Prefix, frozenset[int]] = {}
        if mrt:
            found, withdrawn = found_in_files(numbers, mrt)
            if include_withdrawn:
                found, withdrawn = {**found, **withdrawn}, {}
        else:
            found = found_online(settings, numbers)
        selected = select(found, excluded)
        if not selected:
            raise RoutewatchError(_nothing_found(numbers, bool(found), len(withdrawn)))
        served: list[str] = []
        if zones:
            resolver = make_resolver(resolvers, resolver_port, settings.timeout)
            served = zones_served({z: nameserver_addresses(z, resolver) for z in zones}, selected)
        merged = merge(existing, selected, served, ignore_more_specifics=ignore_more_specifics, group=group)
        parse_config(merged.document, output or "generated config")
    except ConfigError as exc:
        _fail(f"{exc.source}: " + "; ".join(exc.problems))
    except (RoutewatchError, OSError) as exc:
        _fail(str(exc))
    source = "MRT files " + ", ".join(os.path.basename(p) for p in mrt) if mrt else "RIPEstat announced-prefixes"
    header = [f"routewatch generate for {', '.join(f'AS{a}' for a in numbers)}, from {source}."]
    _write(render(merged.document, header if not append_to else ()), output)
    skipped_zones = sorted(set(zones) - set(served))
    click.echo(f"{len(merged.added_prefixes)} prefixes added, {len(merged.kept_prefixes)} already listed"
               + (f", {len(withdrawn)} seen but withdrawn by the end of the data left out (--include-withdrawn)"
                  if withdrawn else "")
               + (f", zones added: {', '.join(merged.added_zones)}" if merged.added_zones else "")
               + (f", zones not served by these prefixes: {', '.join(skipped_zones)}" if skipped_zones else ""),
               err=True)
