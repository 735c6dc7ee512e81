"""Plain settings of the core: frozen values, built by whoever reads the configuration.

The core never sees the configuration schema; the daemon and the tools turn a
parsed configuration into these values (``routewatch.config.core``), and tests
build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routewatch.core.path_policy import PathPolicies
from routewatch.core.peer_filter import PeerFilter


@dataclass(frozen=True, slots=True)
class CoreSettings:
    """Timing knobs of the core (data-time seconds); defaults match the config's."""

    baseline_window: float = 86_400.0
    baseline_min_hold: float = 300.0
    peer_settle: float = 900.0
    anomaly_min_peers: int = 2
    max_more_specifics: int = 1_000  # distinct more-specifics tracked per watched prefix (``more_specifics.py``)
    rpki: bool = False  # VRP sets are configured: RPKI states are exported (``unknown`` until the first set)
    rpki_expiry_warning: float = 7 * 86_400.0  # a ROA keeping a watched prefix valid expiring this soon is reported
    sweep_interval: float = 60.0  # how late a baseline change due to time alone may be seen (and exported)
    paths: PathPolicies = field(default_factory=PathPolicies)
    exclude: PeerFilter = PeerFilter()  # peers and collectors that count for nothing anywhere (``peer_filter.py``)


@dataclass(frozen=True, slots=True)
class WithdrawalThresholds:
    """When a watched prefix counts as withdrawn, and when as recovered; defaults match the config's.

    The configuration checks them (ratios in range, hysteresis); the core
    takes them as given.
    """

    withdrawn_ratio: float = 0.5
    recovered_ratio: float = 0.8
    hold_down: float = 60.0
    min_baseline_peers: int = 3
