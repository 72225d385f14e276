"""`edge-ocr bench daemon [VIDEO ...] [--in-view 1,4,8]`: run and report (see bench/daemon.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edge_ocr.bench.daemon import DaemonRun, Measured, read_log, read_trace, run_daemon
from edge_ocr.bench.daemon_report import cost_per_plate, memory_slopes, plot_runs, summarize, table
from edge_ocr.errors import ConfigError


def add_daemon_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("daemon (edge-ocr bench daemon VIDEO ...)")
    g.add_argument(
        "--in-view",
        default="",
        metavar="N,N",
        help="render a traffic video per N (vehicles in view at once, e.g. 1,4,8) into --out and bench each",
    )
    g.add_argument("--seconds", type=float, default=20.0, help="length of rendered videos (default 20)")
    g.add_argument("--fps", type=float, default=30.0, help="frame rate of rendered videos (default 30)")
    g.add_argument("--texture", type=int, default=0, help="signs with lettering on rendered videos' scenery")
    g.add_argument(
        "--rate", type=float, default=0.0, help="playback rate: 0 = every frame (default), 1 = real time"
    )
    g.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="loop the video (one stream: frame numbers and time carry on), stop after this many seconds; "
        "with --rate 0 every frame is processed",
    )
    g.add_argument("--mqtt", default="", metavar="HOST:PORT", help="also the MQTT sink (with its spool)")
    g.add_argument("--crops", action="store_true", help="also save crops")
    g.add_argument(
        "--crops-quota-mb",
        type=float,
        default=0.0,
        metavar="MB",
        help="with --crops: the crop folder's quota (default: the daemon's, 100), small to reach it in a short run",
    )
    g.add_argument("--motion", action="store_true", help="motion gate on")
    g.add_argument("--lores", default="", metavar="WxH", help="detect on a copy this small, e.g. 640x360")
    g.add_argument("--no-follow", action="store_true", help="read every frame whole (tracker.follow = false)")
    g.add_argument(
        "--python", default="", metavar="PATH", help="run the daemon with this interpreter (a device venv)"
    )


def _videos(args: argparse.Namespace) -> list[tuple[str, Path]]:
    videos = [(Path(v).stem, Path(v)) for v in args.datasets]
    if args.in_view:
        from edge_ocr.synth.video import TrafficSpec, render_traffic, truth_path

        try:
            counts = [int(x) for x in args.in_view.split(",") if x]
        except ValueError:
            raise ConfigError(f"--in-view: expected numbers like 1,4,8, got {args.in_view!r}") from None
        args.out.mkdir(parents=True, exist_ok=True)
        for n in counts:
            video = args.out / f"traffic-{n}-in-view{f'-texture-{args.texture}' if args.texture else ''}.mp4"
            spec = TrafficSpec(in_view=n, seconds=args.seconds, fps=args.fps, seed=n, texture=args.texture)
            if (
                not truth_path(video).is_file()
                or json.loads(truth_path(video).read_text())["spec"]["seconds"] != args.seconds
            ):
                render_traffic(video, spec)
            videos.append((f"{n} in view" + (f", {args.texture} signs" if args.texture else ""), video))
    if not videos:
        raise ConfigError("bench daemon: give a VIDEO or --in-view N,N")
    for _name, v in videos:
        if not v.is_file():
            raise ConfigError(f"{v}: no such video")
    return videos


def _truth(video: Path) -> dict[str, Any] | None:
    from edge_ocr.synth.video import truth_path

    t = truth_path(video)
    return json.loads(t.read_text(encoding="utf-8")) if t.is_file() else None


def cmd_bench_daemon(args: argparse.Namespace) -> int:
    """Run the daemon on each video, one at a time; write summary.json, summary.md, frame_time.png."""
    videos = _videos(args)
    rows, runs, traces = [], [], []
    for name, video in videos:
        out = args.out / name.replace(" ", "-")
        run = DaemonRun(
            video,
            out,
            args.detector,
            args.threads,
            args.rate,
            args.duration,
            args.mqtt,
            args.crops,
            args.crops_quota_mb,
            args.motion,
            args.lores,
            args.python,
            not args.no_follow,
        )
        print(f"{name}: edge-ocr run on {video} ...", file=sys.stderr, flush=True)
        m: Measured = run_daemon(run)
        if m.returncode != 0:
            raise ConfigError(f"{name}: edge-ocr run exited {m.returncode}:\n{m.stderr_tail}")
        trace = read_trace(out / "trace.csv")
        rss_lines = ["seconds,rss_mib", *(f"{t},{mib}" for t, mib in m.rss)]
        (out / "rss.csv").write_text("\n".join(rss_lines) + "\n", encoding="utf-8")  # sampled every 0.5 s
        events, stats = read_log(out / "events.jsonl")
        looped = args.duration > 0
        rows.append(summarize(name, m, trace, events, stats, None if looped else _truth(video)))
        # not the last stats message: written at shutdown, after the source stopped and freed its frames
        rows[-1]["memory_mib_per_h"] = memory_slopes(stats[:-1], m.rss)
        runs.append((name, trace, m))
        traces.append(trace)
    fit = cost_per_plate(traces)
    png = plot_runs(runs, args.out / "frame_time.png")
    doc: dict[str, Any] = {
        "detector": args.detector,
        "threads": args.threads,
        "lores": args.lores,
        "runs": rows,
        "cost_per_plate": fit,
    }
    (args.out / "summary.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    lines = table(rows)
    if fit:
        lines += [
            "",
            f"CPU ms per frame = {fit['base_ms']} + {fit['per_followed_ms']} per followed plate "
            f"+ {fit['per_read_ms']} per plate read (least squares over {fit['frames']} frames)",
        ]
    for r in rows:
        if r["memory_mib_per_h"]:
            parts = ", ".join(f"{k} {v:+.2f}" for k, v in r["memory_mib_per_h"].items())
            lines += ["", f"{r['name']}: MiB per hour from minute 10: {parts}"]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join([*lines, "", f"wrote {args.out / 'summary.json'}, summary.md and {png}"]))
    return 0
