"""``replay --plot``: each watched prefix's visibility over time, detections shaded.

Each panel shows visible and baseline peers, the withdrawn line (baseline
times the prefix's withdrawn ratio: below it for the hold-down, a withdrawal
opens) and the detections as shaded spans. Peers are whole numbers, so the
peer axis has integer ticks; times carry their date, since archives span days.
A caption says why the baseline trails the visible peers: a peer joins it only
after holding the route for the minimum hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from routewatch.core.detection import DetectionChange, DetectionKind
from routewatch.errors import DependencyError
from routewatch.tools.replay import Sample

MAX_PANELS = 16


def plot_visibility(samples: list[Sample], changes: list[DetectionChange], out: str | Path,
                    end: float | None = None, withdrawn_ratios: Mapping[str, float] | None = None,
                    min_hold: float | None = None) -> int:
    """Draw one panel per watched prefix (at most MAX_PANELS) to ``out``; returns the number drawn.

    ``withdrawn_ratios`` (prefix text -> ratio) draws each prefix's withdrawn
    line; ``min_hold`` (seconds) is named in the caption.
    """
    figure = visibility_figure(samples, changes, end, withdrawn_ratios, min_hold)
    if figure is None:
        return 0
    import matplotlib.pyplot as plt

    figure.savefig(out, dpi=110)
    plt.close(figure)
    return len(figure.axes)


def visibility_figure(samples: list[Sample], changes: list[DetectionChange], end: float | None = None,
                      withdrawn_ratios: Mapping[str, float] | None = None, min_hold: float | None = None) -> Any:
    """The figure :func:`plot_visibility` saves (a matplotlib Figure; None when no prefix was sampled)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise DependencyError("--plot needs matplotlib: pip install 'routewatch[plot]'") from None
    prefixes = sorted({p for _, values in samples for p in values})[:MAX_PANELS]
    if not prefixes:
        return None
    spans = _detection_spans(changes, end if end is not None else samples[-1][0])
    fig, axes = plt.subplots(len(prefixes), 1, figsize=(11, 1.9 * len(prefixes) + 0.6), sharex=True, squeeze=False)
    times = [dt.datetime.fromtimestamp(t, dt.UTC) for t, _ in samples]
    for ax, prefix in zip(axes[:, 0], prefixes, strict=False):
        visible = [values.get(prefix, (0, 0))[0] for _, values in samples]
        baseline = [values.get(prefix, (0, 0))[1] for _, values in samples]
        ax.plot(times, baseline, color="0.6", linestyle="--", linewidth=1, drawstyle="steps-post",
                label="baseline peers")
        ax.plot(times, visible, color="tab:blue", linewidth=1.5, drawstyle="steps-post", label="visible peers")
        ratio = (withdrawn_ratios or {}).get(prefix)
        if ratio is not None:
            ax.plot(times, [b * ratio for b in baseline], color="tab:red", linestyle=":", linewidth=1,
                    drawstyle="steps-post", label=f"withdrawn below ({ratio:g} x baseline)")
        for kind, start, stop in spans.get(prefix, []):
            colour = {"withdrawal": "tab:red", "origin": "tab:purple"}.get(kind.value, "tab:orange")
            ax.axvspan(dt.datetime.fromtimestamp(start, dt.UTC), dt.datetime.fromtimestamp(stop, dt.UTC),
                       color=colour, alpha=0.2, label=kind.value)
        ax.set_ylabel("peers")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.set_title(prefix, fontsize=9, loc="left")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=False))
        ax.legend(unique.values(), unique.keys(), fontsize=7, loc="lower left")
    axes[-1, 0].set_xlabel("data time (UTC)")
    axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d\n%H:%M"))
    hold = f"{min_hold:g} s" if min_hold is not None else "the minimum hold"
    fig.text(0.01, 0.005, f"baseline: peers that held the route for at least {hold} within the baseline window; "
             f"a new or returning peer joins it {hold} after it starts holding the route", fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _detection_spans(changes: list[DetectionChange], end: float) -> dict[str, list[tuple[DetectionKind, float, float]]]:
    spans: dict[str, list[tuple[DetectionKind, float, float]]] = {}
    opened: dict[tuple[str, str, DetectionKind], float] = {}
    for change in changes:
        d = change.detection
        key = (str(d.watched), str(d.prefix), d.kind)
        if change.change.value == "opened":
            opened[key] = d.start
        elif key in opened:
            spans.setdefault(str(d.watched), []).append((d.kind, opened.pop(key), change.time))
    for (watched, _, kind), start in opened.items():
        spans.setdefault(watched, []).append((kind, start, end))
    return spans
