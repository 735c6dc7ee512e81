"""RPKI-invalid routes: your own announcement that networks validating RFC 6811 drop.

Every unicast route at or under a watched prefix is validated against the
current VRP set (a cached lookup, see ``core.rpki``). A peer is flagged when
any of its paths for the prefix is invalid, whoever the origin: the flagged
peers per watched prefix are ``routewatch_bgp_prefix_rpki_invalid_peers``.
A ``rpki-invalid`` detection opens when ``anomaly_min_peers`` peers carry an
invalid route from an expected origin (your own announcement, an outage
wherever invalids are dropped); an invalid hijack is the origin detector's,
which says so in its evidence. Before the first VRP set nothing is invalid:
the state is ``unknown``.

A detection restored after a restart or a reload waits for the first VRP set
as it was, neither closed nor opened again (the hijack it reports has not
stopped because routewatch restarted), and the first set judges it. Where no
VRP source is configured any more, no set will come: it closes, saying so.
"""

from __future__ import annotations

from typing import Any, ClassVar

from routewatch.core.detection import ClosedReason, DetectionKind
from routewatch.core.detectors.flagged import FlaggingDetector
from routewatch.core.detectors.view import CoreView
from routewatch.core.rpki import VrpTracker
from routewatch.core.settings import CoreSettings
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix
from routewatch.rpki.validation import RpkiState
from routewatch.rpki.vrp import Vrp

#: Most covering VRPs listed in a detection's evidence.
_VRPS_SHOWN = 10


class RpkiInvalidDetector(FlaggingDetector):
    """Flags peers with an RPKI-invalid path; opens on invalid paths from expected origins."""

    kind: ClassVar[DetectionKind] = DetectionKind.RPKI_INVALID

    def __init__(self, settings: CoreSettings) -> None:
        super().__init__(settings)
        self.enabled = settings.rpki
        self._rpki = VrpTracker()  # the engine's, from the first judge on
        self._prefix: Prefix | None = None

    def engaged(self, view: CoreView) -> bool:
        """Nothing is flagged before a VRP set; restored detections still wait for (or are closed without) one."""
        return view.rpki.index is not None or bool(self._subs) or bool(self._stories)

    def judge(self, prefix: Prefix, watched: WatchedPrefix, exact: bool, peers: set[int] | None,
              view: CoreView) -> list[Any]:
        if view.rpki.index is None:  # nothing is flagged before a set: only restored detections can be open
            if self.enabled or not self._stories:
                return []  # they wait for the first set
            return self.abandon(ClosedReason.RPKI_NOT_CONFIGURED, view)
        # The shared bookkeeping asks about paths alone; validation needs the announced prefix too.
        self._rpki, self._prefix = view.rpki, prefix
        return super().judge(prefix, watched, exact, peers, view)

    def suspect(self, watched: WatchedPrefix, path: AsPath) -> bool:
        assert self._prefix is not None
        return self._rpki.invalid(self._prefix, path)

    def flagged(self, watched: WatchedPrefix, paths: list[AsPath]) -> bool:
        invalid, prefix = self._rpki.invalid, self._prefix
        assert prefix is not None
        return any(invalid(prefix, path) for path in paths)

    def counted(self, flagged: set[int], prefix: Prefix, watched: WatchedPrefix, view: CoreView) -> set[int]:
        paths_of, invalid = view.table.peer_unicast_paths, view.rpki.invalid
        return {peer for peer in flagged
                if any(watched.path_expected(path) and invalid(prefix, path) for path in paths_of(prefix, peer))}

    def evidence(self, watched: WatchedPrefix, suspect: list[AsPath]) -> dict[str, object]:
        return super().evidence(watched, [path for path in suspect if watched.path_expected(path)])

    def context(self, prefix: Prefix, suspect: list[AsPath], view: CoreView) -> dict[str, object]:
        return rpki_evidence(prefix, suspect, view.rpki)

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        if view.rpki.index is None:
            return {}
        return {"rpki_invalid_peers": self.peers(watched)}


def rpki_evidence(prefix: Prefix, paths: list[AsPath], rpki: VrpTracker) -> dict[str, object]:
    """The RPKI states of ``paths``, why the invalid ones are, and the VRPs covering ``prefix``."""
    outcomes = [rpki.validate(prefix, path) for path in paths]
    covering = next((o.packed_covering for o in outcomes if o.packed_covering), ())
    return {
        "rpki_states": sorted({o.state.value for o in outcomes}),
        "rpki_invalid": bool(outcomes) and all(o.state is RpkiState.INVALID for o in outcomes),
        "rpki_reasons": sorted({o.reason.value for o in outcomes if o.reason is not None}),
        "covering_vrps": [str(Vrp.unpack(packed)) for packed in covering[:_VRPS_SHOWN]],
    }
