"""``routewatch check zone ZONE``: ask every nameserver address of a zone, print a verdict.

Exit codes are for scripts: 0 healthy, 1 degraded, 2 down, 3 could not check
(including bad arguments, so that a typo never reads as "down"). DNSSEC joins
them: bogus, or unsigned for a zone that must be signed, is 2; expiring is 1.
With ``--mrt`` (archives) or ``--ripestat`` (what RIS saw over the baseline
window) each address also shows the routes under it (service prefix,
baseline peers, peers at risk and what they fell back to), and they join the
verdict.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import click

from routewatch.config.schema import Config, DnsSettings, load_config
from routewatch.core.dns_risk import AddressRisk, Fallback, FallbackKind
from routewatch.dns.check import CheckRequest, CheckResult, RouteSource, check_config, run_check
from routewatch.dns.snapshot import TargetSnapshot, ZoneSnapshot
from routewatch.dns.targets import Transport
from routewatch.errors import RoutewatchError
from routewatch.model import canonical_address
from routewatch.tools.zone_routes import archive_risks, ripestat_risks

COULD_NOT_CHECK = 3

_DNS = DnsSettings()


class _CouldNotCheck(click.UsageError):
    exit_code = COULD_NOT_CHECK


class _CheckCommand(click.Command):
    """A click command whose usage errors exit 3 ("could not check"), not click's 2 ("down")."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _CouldNotCheck(exc.format_message(), exc.ctx) from None


def _address(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(canonical_address(v) for v in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("zone", cls=_CheckCommand)
@click.argument("zone")
@click.option("--server", "servers", multiple=True, callback=_address, metavar="ADDR",
              help="Ask only this server address (repeatable); skips discovery.")
@click.option("--parent", "parents", multiple=True, callback=_address, metavar="ADDR",
              help="Ask this parent server for the delegation (repeatable) instead of walking from the root.")
@click.option("--port", type=click.IntRange(1, 65535),
              help=f"DNS port of every server asked (default: the config's dns.port, else {_DNS.port}).")
@click.option("--timeout", type=click.FloatRange(min=0.01),
              help=f"Seconds to wait for each answer (default: the config's dns.timeout, else {_DNS.timeout:g}).")
@click.option("--must-be-signed", is_flag=True,
              help="The zone must be DNSSEC-signed: no DS at the parent is a failure (exit 2), not insecure.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              help="Take DNS settings and the zone's entry from this config file.")
@click.option("--mrt", "mrt_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="MRT archives (a RIB plus updates): judge the routes under each address too (repeatable).")
@click.option("--ripestat", is_flag=True,
              help="Judge the routes under each address too, from what RIPEstat's RIS saw of it over the baseline "
                   "window (bgp.baseline_window, default 24 h): the prefix that served it, not only what is left.")
@click.pass_context
def check_zone(
    ctx: click.Context,
    zone: str,
    servers: tuple[str, ...],
    parents: tuple[str, ...],
    port: int | None,
    timeout: float | None,
    must_be_signed: bool,
    as_json: bool,
    config_path: str | None,
    mrt_files: tuple[str, ...],
    ripestat: bool,
) -> None:
    """Probe every nameserver address of ZONE directly and judge the zone."""
    if mrt_files and ripestat:
        raise _CouldNotCheck("--mrt and --ripestat are two sources of the same routes: give one", ctx)
    try:
        base = load_config(config_path) if config_path else Config()
        config = check_config(base, CheckRequest(zone, servers, parents, port, timeout, must_be_signed))
        routes = _archives(config, mrt_files) if mrt_files else _ripestat(config) if ripestat else None
        result = asyncio.run(run_check(config, servers, routes))
    except (RoutewatchError, OSError, ValueError) as exc:
        click.echo(f"routewatch: cannot check {zone}: {exc}", err=True)
        ctx.exit(COULD_NOT_CHECK)
    click.echo(json.dumps(to_json(result), indent=2) if as_json else render(result))
    ctx.exit(exit_code(result.zone))


def exit_code(zone: ZoneSnapshot) -> int:
    """The verdict's exit code, made worse by DNSSEC: bogus or required-but-unsigned is as bad as down (2),
    expiring degrades (1)."""
    return max(zone.verdict.exit_code, zone.dnssec.state.exit_code)


def _archives(config: Config, files: Sequence[str]) -> RouteSource:
    async def routes(addresses: Sequence[str]) -> Mapping[str, AddressRisk]:
        return await asyncio.to_thread(archive_risks, config, files, addresses)

    return routes


def _ripestat(config: Config) -> RouteSource:
    async def routes(addresses: Sequence[str]) -> Mapping[str, AddressRisk]:
        return await ripestat_risks(config, addresses, time.time())

    return routes


def _status(target: TargetSnapshot) -> str:
    if target.up is None:
        return "not probed"
    if target.up:
        return "up"
    failing = [p for p in (target.udp, target.tcp) if p is not None and p.failure is not None]
    if len(failing) == 1:
        return f"{failing[0].failure} ({failing[0].transport})"
    return str(target.reason)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _fallback(fallback: Fallback) -> str:
    if fallback.kind is FallbackKind.NOTHING:
        return f"nothing ({fallback.peers})"
    origins = "".join(f" AS{asn}" for asn in fallback.origins) if fallback.kind is FallbackKind.MORE_SPECIFIC else ""
    return f"{fallback.prefix} {fallback.kind}{origins} ({fallback.peers})"


def _route_cells(risk: AddressRisk | None) -> list[str]:
    if risk is None:
        return ["-", "-", "-", "-"]
    service = ",".join(str(p) for p in risk.service_prefixes) or "(none found)"
    at_risk = f"{risk.peers_at_risk}" + (" AT RISK" if risk.at_risk else "")
    return [service, str(risk.baseline_peers), at_risk, ", ".join(_fallback(f) for f in risk.fallbacks) or "-"]


def _row(target: TargetSnapshot, risks: dict[str, AddressRisk]) -> list[str]:
    aa = target.authoritative
    return [
        target.nameserver,
        target.address,
        _status(target),
        f"{_ms(target.rtt(Transport.UDP))}/{_ms(target.rtt(Transport.TCP))}",
        "-" if target.serial is None else str(target.serial),
        "-" if aa is None else ("yes" if aa else "no"),
        target.nsid or "-",
        *_route_cells(risks.get(target.address)),
    ]


HEADER = ["NAMESERVER", "ADDRESS", "STATUS", "RTT ms UDP/TCP", "SERIAL", "AA", "NSID", "SERVICE PREFIX", "BASELINE",
          "AT RISK", "FELL BACK TO"]


def render(result: CheckResult) -> str:
    """The human table: one row per nameserver address, then the zone's findings and verdict."""
    rows = [HEADER] + [_row(t, result.risks) for t in result.targets]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    return "\n".join([*lines, "", *_risk_findings(result.risks), *_query_failures(result), *_findings(result.zone)])


def _risk_findings(risks: dict[str, AddressRisk]) -> list[str]:
    lines = []
    for address, risk in risks.items():
        if risk.at_risk:
            service = ",".join(str(p) for p in risk.service_prefixes)
            lines.append(f"risk: {address} has lost {service} at {risk.peers_at_risk} of {risk.baseline_peers} "
                         f"baseline peers (fell back to: {', '.join(_fallback(f) for f in risk.fallbacks)})")
        elif not risk.service_prefixes:
            lines.append(f"routes: no service prefix found for {address} in the data (no baseline to judge)")
    return lines


def _query_failures(result: CheckResult) -> list[str]:
    """One line per configured query that failed at an address (``zones[].queries``)."""
    return [f"query {q.query} at {t.address}: {q.detail}" for t in result.targets
            for q in (t.queries.results if t.queries is not None else ()) if not q.ok]


def _findings(zone: ZoneSnapshot) -> list[str]:
    lines = [
        f"nameservers up: {zone.nameservers_up}/{zone.nameservers_total}, "
        f"addresses up: {zone.addresses_up}/{zone.addresses_total}",
        f"SOA serials: {zone.serials}" + (f" (newest {zone.serial_newest})" if zone.serial_newest is not None else "")
        + (f", behind: {', '.join(zone.lagging)}" if zone.lagging else ""),
        f"NS sets (parent vs zone): {zone.ns_sets}",
    ]
    if zone.ns_sets == "disagree":
        lines.append(f"  parent: {' '.join(zone.parent_ns)}")
        lines.append(f"  zone:   {' '.join(zone.child_ns)}")
    discovery = zone.discovery
    lines.append("discovery: " + ("ok" if discovery.ok else "; ".join(discovery.problems) or "not run"))
    if zone.addresses_over_cap:
        lines.append(f"addresses over the cap (not probed): {zone.addresses_over_cap}")
    if zone.diversity.single_prefix:
        lines.append(f"risk: every nameserver address is in one prefix ({zone.diversity.prefixes[0]})")
    if zone.diversity.single_origin:
        lines.append(f"risk: every nameserver address is behind one origin AS (AS{zone.diversity.origins[0]})")
    for resolver in zone.resolvers:
        lines.append(f"resolver {resolver.resolver}: {resolver.failure or 'ok'}")
    lines.extend(_dnssec_findings(zone))
    because = f": {zone.reason}" if zone.reason else ""
    lines.append(f"verdict: {zone.zone} is {zone.verdict}{because} (exit {exit_code(zone)})")
    return lines


def _dnssec_findings(zone: ZoneSnapshot) -> list[str]:
    """Glue versus served addresses, then the DNSSEC state with its expiry, DS matches and problems."""
    lines = [f"glue differs for {name}: parent {' '.join(glue)}, zone {' '.join(served)}"
             for name, glue, served in zone.discovery.glue_mismatches]
    dnssec = zone.dnssec
    expiry = "" if dnssec.earliest_expiry is None else (
        ", earliest signature expiry " + time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(dnssec.earliest_expiry)))
    lines.append(f"DNSSEC: {dnssec.state}{expiry}")
    for ds in dnssec.ds:
        match = f"matches key {ds.matched_key}" if ds.matched_key is not None else "matches no served key"
        lines.append(f"  DS {ds.key_tag} algorithm {ds.algorithm} digest {ds.digest_type}: {match}")
    lines.extend(f"  problem: {problem}" for problem in dnssec.problems)
    return lines


def _dnssec_json(zone: ZoneSnapshot) -> dict[str, Any]:
    dnssec = zone.dnssec
    return {
        "state": dnssec.state,
        "earliest_expiry": dnssec.earliest_expiry,
        "ds_match": dnssec.ds_match,
        "ds": [{"key_tag": d.key_tag, "algorithm": d.algorithm, "digest_type": d.digest_type,
                "matched_key": d.matched_key} for d in dnssec.ds],
        "problems": list(dnssec.problems),
    }


def to_json(result: CheckResult) -> dict[str, Any]:
    """The same result for scripts; times are clock seconds, RTTs seconds."""
    zone = result.zone
    targets = []
    for t in result.targets:
        targets.append({
            "nameserver": t.nameserver,
            "address": t.address,
            "up": t.up,
            "reason": t.reason,
            "rtt_udp": t.rtt(Transport.UDP),
            "rtt_tcp": t.rtt(Transport.TCP),
            "serial": t.serial,
            "aa": t.authoritative,
            "nsid": t.nsid,
            "detail": {p.transport: p.detail for p in (t.udp, t.tcp) if p is not None},
            "routes": _risk_json(result.risks.get(t.address)),
            "queries": [{"query": q.query, "ok": q.ok, "rcode": q.rcode, "detail": q.detail}
                        for q in (t.queries.results if t.queries is not None else ())],
        })
    return {
        "zone": zone.zone,
        "verdict": zone.verdict,
        "reason": zone.reason,
        "exit_code": exit_code(zone),
        "nameservers_up": zone.nameservers_up,
        "nameservers_total": zone.nameservers_total,
        "addresses_up": zone.addresses_up,
        "addresses_total": zone.addresses_total,
        "addresses_over_cap": zone.addresses_over_cap,
        "serials": {"state": zone.serials, "newest": zone.serial_newest, "lagging": list(zone.lagging)},
        "ns_sets": {"state": zone.ns_sets, "parent": list(zone.parent_ns), "zone": list(zone.child_ns)},
        "discovery": {
            "ok": zone.discovery.ok,
            "problems": list(zone.discovery.problems),
            "parent_answer": zone.discovery.parent_answer,
            "glue_mismatches": [{"nameserver": name, "glue": list(glue), "served": list(served)}
                                for name, glue, served in zone.discovery.glue_mismatches],
        },
        "dnssec": _dnssec_json(zone),
        "diversity": {
            "single_prefix": zone.diversity.single_prefix,
            "single_origin": zone.diversity.single_origin,
            "prefixes": list(zone.diversity.prefixes),
            "origins": list(zone.diversity.origins),
        },
        "resolvers": [{"resolver": r.resolver, "ok": r.ok, "reason": r.failure, "rtt": r.rtt}
                      for r in zone.resolvers],
        "targets": targets,
    }


def _risk_json(risk: AddressRisk | None) -> dict[str, Any] | None:
    if risk is None:
        return None
    return {
        "service_prefixes": [str(p) for p in risk.service_prefixes],
        "baseline_peers": risk.baseline_peers,
        "peers_on_service": risk.peers_on_service,
        "peers_at_risk": risk.peers_at_risk,
        "at_risk": risk.at_risk,
        "fallbacks": [{"kind": f.kind.value, "prefix": str(f.prefix) if f.prefix else None, "peers": f.peers,
                       "origins": list(f.origins)} for f in risk.fallbacks],
        "longest_match": str(risk.common_match) if risk.common_match else None,
    }
