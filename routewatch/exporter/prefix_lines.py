"""The per-prefix sample lines, formatted straight from a ``PrefixStatus``, exactly as prometheus_client writes them.

Building prometheus_client's metric families for ten thousand prefixes and
formatting them costs ~20 us a sample (140,000 samples: 2-3 s), which is what
made ``replay --metrics-out`` add ~45% to a replay and the first scrape slow.
The lines of a prefix are a fixed pattern: one f-string per family. This module
writes them in the order of ``bgp.prefix_families`` (one string per family,
empty where the prefix has no sample in it), with prometheus_client's own
float formatting and label-value escaping, and labels sorted by name as it
sorts them. Names are all legacy-valid, so no escaping scheme changes them,
and the text and OpenMetrics formats write these samples identically; a unit
test holds every line to prometheus_client's rendering of the same statuses.
"""

from __future__ import annotations

from prometheus_client.utils import floatToGoString

from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.snapshot import PrefixStatus
from routewatch.exporter.bgp import PREFIX_STATES, RPKI_STATES

_P = "routewatch_bgp_prefix_"
_EMPTY = ""


def _value(text: str) -> str:
    """A label value as prometheus_client escapes it."""
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _one_hot(name: str, label: str, states: tuple[str, ...], current: str) -> str:
    return "".join(f'{name}{{{label},state="{state}"}} {"1.0" if state == current else "0.0"}\n' for state in states)


def prefix_lines(status: PrefixStatus, default: WithdrawalThresholds) -> list[str]:
    """The prefix's lines per family, in ``bgp.prefix_families``' order (21 families)."""
    label = f'prefix="{_value(str(status.prefix))}"'
    braces = "{" + label + "}"

    def gauge(name: str, value: float | None) -> str:
        return _EMPTY if value is None else f"{_P}{name}{braces} {floatToGoString(value)}\n"

    upstreams = "".join(f'{_P}visible_peers_by_upstream{{{label},upstream="AS{upstream}"}} {floatToGoString(peers)}\n'
                        for upstream, peers in status.visible_peers_by_upstream)
    rpki_state = (_EMPTY if status.rpki_state is None
                  else _one_hot(f"{_P}rpki_state", label, RPKI_STATES, status.rpki_state.value))
    overrides = status.thresholds != default
    t = status.thresholds
    origins = " ".join(f"AS{asn}" for asn in status.origins)
    info = (f'{_P}info{{description="{_value(status.description)}",group="{_value(status.group)}",'
            f'origins="{origins}",{label},source="{_value(status.source)}"}} 1.0\n')
    return [
        gauge("visible_peers", status.visible_peers),
        gauge("visible_peer_asns", status.visible_peer_asns),
        gauge("baseline_peers", status.baseline_peers),
        gauge("visibility_ratio", status.ratio),
        _one_hot(f"{_P}state", label, PREFIX_STATES, status.state.value),
        gauge("unexpected_origin_peers", status.unexpected_origin_peers),
        gauge("more_specific_peers", status.more_specific_peers),
        gauge("unexpected_neighbor_peers", status.unexpected_neighbor_peers),
        gauge("path_rule_peers", status.path_rule_peers),
        gauge("unlisted_peers", status.unlisted_peers),
        upstreams,
        gauge("more_specifics_refused_total", status.more_specifics_refused),
        gauge("rpki_invalid_peers", status.rpki_invalid_peers),
        rpki_state,
        gauge("rpki_expires_timestamp_seconds", status.rpki_expires),
        gauge("rpki_roa_invalidations_total", None if status.rpki_state is None else status.rpki_roa_invalidations),
        gauge("withdrawn_ratio_threshold", t.withdrawn_ratio if overrides else None),
        gauge("recovered_ratio_threshold", t.recovered_ratio if overrides else None),
        gauge("min_baseline_peers", t.min_baseline_peers if overrides else None),
        gauge("hold_down_seconds", t.hold_down if overrides else None),
        info,
    ]
