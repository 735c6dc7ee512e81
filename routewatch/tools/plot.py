"""``replay --plot``: each watched prefix's visibility over time, detections shaded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from routewatch.core.detection import DetectionChange, DetectionKind
from routewatch.errors import DependencyError
from routewatch.tools.replay import Sample

MAX_PANELS = 16


def plot_visibility(samples: list[Sample], changes: list[DetectionChange], out: str | Path,
                    end: float | None = None) -> int:
    """Draw one panel per watched prefix (at most MAX_PANELS); returns the number drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise DependencyError("--plot needs matplotlib: pip install 'routewatch[plot]'") from None
    prefixes = sorted({p for _, values in samples for p in values})[:MAX_PANELS]
    if not prefixes:
        return 0
    spans = _detection_spans(changes, end if end is not None else samples[-1][0])
    fig, axes = plt.subplots(len(prefixes), 1, figsize=(11, 1.9 * len(prefixes) + 0.6), sharex=True, squeeze=False)
    times = [dt.datetime.fromtimestamp(t, dt.UTC) for t, _ in samples]
    for ax, prefix in zip(axes[:, 0], prefixes, strict=False):
        visible = [values.get(prefix, (0, 0))[0] for _, values in samples]
        baseline = [values.get(prefix, (0, 0))[1] for _, values in samples]
        ax.plot(times, baseline, color="0.6", linestyle="--", linewidth=1, drawstyle="steps-post",
                label="baseline peers")
        ax.plot(times, visible, color="tab:blue", linewidth=1.5, drawstyle="steps-post", label="visible peers")
        for kind, start, stop in spans.get(prefix, []):
            colour = {"withdrawal": "tab:red", "origin": "tab:purple"}.get(kind.value, "tab:orange")
            ax.axvspan(dt.datetime.fromtimestamp(start, dt.UTC), dt.datetime.fromtimestamp(stop, dt.UTC),
                       color=colour, alpha=0.2, label=kind.value)
        ax.set_ylabel("peers")
        ax.set_title(prefix, fontsize=9, loc="left")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=False))
        ax.legend(unique.values(), unique.keys(), fontsize=7, loc="lower left")
    axes[-1, 0].set_xlabel("data time (UTC)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return len(prefixes)


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
