"""Figures of `bench daemon` runs: per-frame cost, events against the video's truth, RSS slope,
the cost per plate (a least-squares fit over every frame of every run) and the PNG plot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge_ocr.bench.daemon import Measured


def _pct(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if len(values) else 0.0


def _mean(values: Sequence[float]) -> float:
    return round(float(np.mean(values)), 2) if len(values) else 0.0


def rss_slope(
    rss: Sequence[tuple[float, float]], skip_s: float = 30.0, span_s: float = 120.0
) -> float | None:
    """MiB per hour of RSS after the first `skip_s` seconds (start-up, model load, first frames);
    None when fewer than `span_s` seconds are left to fit (a short run says nothing of growth)."""
    pts = [(t, m) for t, m in rss if t >= skip_s]
    if len(pts) < 10 or pts[-1][0] - pts[0][0] < span_s:
        return None
    t, m = np.array(pts).T
    return round(float(np.polyfit(t / 3600.0, m, 1)[0]), 2)


def memory_slopes(
    stats: Sequence[dict[str, Any]], rss: Sequence[tuple[float, float]] = (), skip_s: float = 600.0
) -> dict[str, float]:
    """MiB per hour, after the first `skip_s` seconds, of the RSS sampled from outside (`rss`)
    and of each part of the daemon's memory in its stats messages (resident, anonymous,
    file-backed, malloc's heap in use and free: `memory_mb`, daemon/memory.py): which part
    grows. Empty for runs too short to say."""
    series: dict[str, list[tuple[float, float]]] = {"rss_sampled": list(rss)}
    for msg in stats:
        parts = {"rss_mb": msg.get("rss_mb", 0.0), **msg.get("memory_mb", {})}
        for key, mib in parts.items():
            series.setdefault(key, []).append((float(msg.get("uptime_s", 0.0)), float(mib)))
    out = {}
    for key, pts in series.items():
        slope = rss_slope(pts, skip_s=skip_s, span_s=600.0)
        if slope is not None:
            out[key] = slope
    return out


def check_truth(events: Sequence[dict[str, Any]], truth: dict[str, Any] | None) -> dict[str, Any]:
    """One `new` per vehicle with the right plate: vehicles that crossed the whole frame must be
    reported once; a vehicle cut by the start or end of the video may be, once."""
    new = Counter(e["plate"] for e in events if e["kind"] == "new")
    out: dict[str, Any] = {"new": sum(new.values()), "plates_reported": sorted(new)}
    if truth is None:
        return out
    vehicles = truth["vehicles"]
    complete = {v["plate"] for v in vehicles if v["complete"]}
    known = {v["plate"] for v in vehicles}
    out.update(
        vehicles=len(complete),
        right=sum(1 for p in complete if new[p] >= 1),
        missed=sorted(p for p in complete if new[p] == 0),
        duplicates=sum(n - 1 for n in new.values() if n > 1),
        wrong=sorted(p for p in new if p not in known),
        partial_reported=sum(1 for p in known - complete if new[p]),
    )
    return out


def summarize(
    name: str,
    m: Measured,
    trace: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    stats_log: Sequence[dict[str, Any]],
    truth: dict[str, Any] | None,
) -> dict[str, Any]:
    stats = stats_log[-1] if stats_log else {}  # the last: written at shutdown, totals of the run
    done = [r for r in trace if r["status"] == "processed"]
    cpu = [r["cpu_ms"] for r in done]
    wall = [r["wall_ms"] for r in done]
    kinds = Counter(e["kind"] for e in events)
    return {
        "name": name,
        "returncode": m.returncode,
        "frames_in": stats.get("frames_in", 0),
        "processed": len(done),
        "not_processed": {
            "dropped": stats.get("dropped", 0),
            "motion_skipped": stats.get("motion_skipped", 0),
            "bad": stats.get("bad_frames", 0),
        },
        "fps_processed": stats.get("fps_out", 0.0),  # frames / (daemon start .. stop), model loaded
        "fps_one_core_cpu": round(1000.0 / _mean(cpu), 1) if cpu else 0.0,
        "cpu_ms": {"mean": _mean(cpu), "p90": _pct(cpu, 90), "max": _pct(cpu, 100)},
        "wall_ms": {"mean": _mean(wall), "p90": _pct(wall, 90)},
        "process_cpu_ms_per_frame": round(1000.0 * m.cpu_s / max(1, len(done)), 1),
        "process_cpu_s": round(m.cpu_s, 1),
        "wall_s": round(m.wall_s, 1),
        "peak_rss_mib": round(max(m.peak_rss_mib, stats.get("peak_rss_mb", 0.0)), 1),
        "rss_end_mib": m.rss[-1][1] if m.rss else 0.0,
        "rss_slope_mib_per_h": rss_slope(m.rss),
        "plates": {
            k: sum(r[k] for r in done) for k in ("regions", "read", "followed", "covered", "edge", "still")
        },
        "events": dict(kinds),
        "truth": check_truth(events, truth),
        "stage_ms": stats.get("stage_ms", {}),
    }


def cost_per_plate(traces: Sequence[Sequence[dict[str, Any]]]) -> dict[str, float]:
    """cpu_ms = base + per_followed * followed + per_read * read (+ covered with the followed),
    fitted over every processed frame of the runs: what one more plate in view costs."""
    rows = [r for t in traces for r in t if r["status"] == "processed"]
    if len(rows) < 3:
        return {}
    x = np.array([[1.0, r["followed"] + r["covered"], r["read"]] for r in rows])
    y = np.array([r["cpu_ms"] for r in rows])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return {
        "base_ms": round(float(coef[0]), 2),
        "per_followed_ms": round(float(coef[1]), 2),
        "per_read_ms": round(float(coef[2]), 2),
        "frames": len(rows),
    }


def plot_runs(runs: Sequence[tuple[str, Sequence[dict[str, Any]], Measured]], path: Path) -> Path:
    """Frame CPU and wall ms over each run, with the regions detected, and RSS over time."""
    from edge_ocr.bench.plots import _plt

    plt = _plt()
    fig, axes = plt.subplots(len(runs) + 1, 1, figsize=(11, 2.6 * (len(runs) + 1)), squeeze=False)
    for ax, (name, trace, _m) in zip(axes[:, 0], runs, strict=False):
        done = [r for r in trace if r["status"] == "processed"]
        idx = np.arange(len(done))
        ax.plot(idx, [r["wall_ms"] for r in done], lw=0.6, color="0.6", label="wall ms")
        ax.plot(idx, [r["cpu_ms"] for r in done], lw=0.8, color="C0", label="CPU ms (loop thread)")
        ax.set_ylabel("ms per frame")
        ax.set_title(name, fontsize=9)
        twin = ax.twinx()
        twin.step(idx, [r["regions"] for r in done], lw=0.6, color="C3", label="regions")
        twin.step(idx, [r["read"] for r in done], lw=0.6, color="C2", label="read")
        twin.set_ylabel("plates")
        ax.legend(loc="upper left", fontsize=7)
        twin.legend(loc="upper right", fontsize=7)
    ax = axes[-1, 0]
    for name, _t, m in runs:
        if m.rss:
            ax.plot([t for t, _ in m.rss], [v for _, v in m.rss], lw=0.8, label=name)
    ax.set_xlabel("seconds (last panel) / processed frame (others)")
    ax.set_ylabel("RSS MiB")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown table of the runs."""
    head = (
        "| run | processed | fps (wall) | fps (1 core, CPU) | CPU ms mean / p90 | process CPU ms/frame "
        "| peak RSS MiB | RSS MiB/h | read / followed | events | right of vehicles |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        t = r["truth"]
        right = (
            f"{t['right']}/{t['vehicles']} (wrong {len(t['wrong'])}, dup {t['duplicates']})"
            if "vehicles" in t
            else "–"
        )
        p = r["plates"]
        lines.append(
            f"| {r['name']} | {r['processed']}/{r['frames_in']} | {r['fps_processed']:.1f} | "
            f"{r['fps_one_core_cpu']:.1f} | {r['cpu_ms']['mean']:.1f} / {r['cpu_ms']['p90']:.1f} | "
            f"{r['process_cpu_ms_per_frame']:.1f} | {r['peak_rss_mib']:.1f} | {'–' if r['rss_slope_mib_per_h'] is None else r['rss_slope_mib_per_h']} | "
            f"{p['read']} / {p['followed']} | {sum(r['events'].values())} | {right} |"
        )
    return lines
