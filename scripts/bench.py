"""Benchmark the local gateway: the latency it adds, the rate it sustains, and its CPU and memory cost.

    .venv/bin/python scripts/bench.py                 # full run, under 2 minutes
    .venv/bin/python scripts/bench.py --quick         # sanity run: concurrency 1,32; 50 streams; 2 s points
    .venv/bin/python scripts/bench.py --json out.json # also write every figure as JSON

Method
------
Three processes share the machine (on the reference box: 2 cores), all on loopback:

1. the provider emulator (`python -m scripts.emulator --latency-ms L`, default L = 50 ms), a subprocess;
2. the gateway (`scripts/run_local.py`, uvicorn + SQLite in a temporary file), a subprocess, pointed at the
   emulator as OpenAI (`OPENAI_BASE_URL`), with a gateway key created through `POST /admin/keys`;
3. the load generator (scripts/bench_load.py), an asyncio/aiohttp closed loop in this process (uvloop).

For each concurrency N the same request body is sent DIRECT to the emulator (model `gpt-4o-mini`) and
THROUGH the gateway (model `openai/gpt-4o-mini`) by N workers back to back (a closed loop; worker starts
spread over one upstream latency). The `--duration` of a point is measured per side in `--rounds` slices,
interleaved D G D G D G: the reference box is a VM whose cores the hypervisor sometimes lends elsewhere
(CPU steal), and interleaving makes such drift hit both sides alike. The first slice of a side has 1 s of
discarded warm-up (`--warmup`), later ones 0.5 s (`--slice-warmup`); no direct and gateway traffic overlap.
Streams ask for `stream_options.include_usage` and carry the emulator marker
`[[emulator:chunk_interval_ms=K]]` in the message (the gateway forwards the body, not client headers), so
the answer arrives as ~25 chunks K ms apart, like a real model.

Reading the figures
-------------------
- direct / gateway p50, p99: end-to-end latency seen by the client (streams: until the last byte).
- ADDED p50 / p99: gateway percentile minus direct percentile. This is what a client pays for the gateway,
  including CPU contention: the gateway's work competes with the emulator and the load generator for the
  same cores, so at high concurrency ADDED grows once the box is saturated (see `box busy/steal`).
  Percentiles over a few thousand requests on a shared VM move between runs by several ms (p99 by tens):
  compare runs by the CPU figure first, and repeat a run before trusting a small latency difference.
- hdr p50/p99 (non-stream): the gateway's own `x-gateway-overhead-ms` header, the time inside the app minus
  the time waiting on upstream. It misses what happens outside the app (uvicorn's HTTP parsing, the
  kernel, event-loop queueing before the request reaches the app), so it is a lower bound of ADDED.
- TTFT added (streams): the same subtraction for the time to the first content chunk.
- rps d/g: successful requests per second, direct and through the gateway. In a closed loop the rate is
  N / latency, so it drops when latency grows.
- err d/g: errors in the window (non-2xx, transport errors, streams without `data: [DONE]`); kinds are
  listed under the table.
- gw CPU ms/req (ms/stream): the gateway process's user+system CPU time (from /proc/PID/stat) over its
  slices, divided by the requests it served. This is the cost figure, and the steadiest one: the gateway
  is one event loop, so at C ms/req it serves at most 1000/C requests per second, and long before that
  queueing on the loop shows up as ADDED latency.
- box busy/steal: the whole machine (/proc/stat, all cores) while the gateway slices ran: busy share, and
  steal share (time the hypervisor ran someone else). Busy near 100 % means latency measures queueing;
  steal above a few % means the run was disturbed and its latency figures are noisy.
- RSS / peak MB: the gateway's VmRSS and VmHWM (high-water mark) from /proc/PID/status after the point.

Targets (on the 2-core box): at 32 concurrent non-stream clients, ADDED p50 <= 2 ms and p99 <= 10 ms;
200 concurrent streams with no error. The rows they apply to say PASS or MISS; the exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from scripts.bench_load import PointResult, Target, new_session, run_point  # noqa: E402
from scripts.bench_processes import (  # noqa: E402
    CpuMeter, log_tail, stop_process, create_gateway_key, memory_mb, start_emulator, start_gateway, wait_healthy,
)
from scripts.bench_report import Row, format_ms, format_table  # noqa: E402

GATEWAY_MODEL = "openai/gpt-4o-mini"
DIRECT_MODEL = "gpt-4o-mini"
PROMPT = (
    "Summarise in one paragraph why a gateway in front of several model providers helps a small team "
    "ship features faster while keeping costs visible."
)  # ~25 words: the emulator's reply echoes it, one word per stream chunk


async def measure(
    session: aiohttp.ClientSession,
    mode: str,
    concurrency: int,
    direct: Target,
    through: Target,
    gateway_pid: int,
    emulator_pid: int,
    args: argparse.Namespace,
) -> Row:
    """One point: `args.rounds` direct slices interleaved with as many gateway slices (D G D G …)."""
    slice_seconds = args.duration / args.rounds
    stagger = args.upstream_latency_ms / 1000
    meter = CpuMeter(gateway_pid, emulator_pid)
    direct_result = PointResult(concurrency, 0.0)
    through_result = PointResult(concurrency, 0.0)
    for round_ in range(args.rounds):
        warmup = args.warmup if round_ == 0 else args.slice_warmup
        direct_result.merge(await run_point(session, direct, concurrency, slice_seconds, warmup, stagger=stagger))
        part = await run_point(session, through, concurrency, slice_seconds, warmup, meter.start, stagger=stagger)
        await asyncio.sleep(0.05)  # let the usage rows written after the last answers land in this slice
        meter.stop()
        through_result.merge(part)
    served = through_result.completed_since_open
    rss, peak = memory_mb(gateway_pid)
    return Row(
        mode=mode,
        concurrency=concurrency,
        direct=direct_result,
        gateway=through_result,
        gateway_cpu_ms_per_request=meter.used["gateway"] / served * 1000 if served else None,
        emulator_cpu_ms_per_request=meter.used["emulator"] / served * 1000 if served else None,
        load_generator_cpu_ms_per_request=meter.used["load generator"] / served * 1000 if served else None,
        box_busy_percent=meter.share("machine busy"),
        box_steal_percent=meter.share("machine steal"),
        rss_mb=rss,
        peak_rss_mb=peak,
    )


# ---- the table -------------------------------------------------------------------------------------


def _targets(emulator_url: str, gateway_url: str, gateway_key: str, stream: bool, chunk_interval_ms: int,
             gateway_model: str = GATEWAY_MODEL):
    message = PROMPT + (f" [[emulator:chunk_interval_ms={chunk_interval_ms}]]" if stream else "")
    body = {"messages": [{"role": "system", "content": "You are concise."}, {"role": "user", "content": message}]}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    headers = {"Content-Type": "application/json"}
    direct = Target(
        emulator_url + "/v1/chat/completions",
        {**headers, "Authorization": "Bearer bench"},
        json.dumps({"model": DIRECT_MODEL, **body}).encode(),
        stream,
    )
    through = Target(
        gateway_url + "/v1/chat/completions",
        {**headers, "Authorization": f"Bearer {gateway_key}"},
        json.dumps({"model": gateway_model, **body}).encode(),
        stream,
    )
    return direct, through


async def bench(args: argparse.Namespace, workdir: Path) -> list[Row]:
    emulator = gateway = None
    rows: list[Row] = []
    try:
        emulator, emulator_url = start_emulator(args.upstream_latency_ms, workdir)
        admin_key = "bench-admin-" + secrets.token_urlsafe(16)
        gateway, gateway_url, gateway_log = start_gateway(emulator_url, admin_key, workdir)
        pool = max([*args.concurrency, *args.stream_concurrency, 1]) + 8
        async with new_session(pool) as session:
            await wait_healthy(session, gateway_url, gateway, gateway_log)
            gateway_key = await create_gateway_key(session, gateway_url, admin_key)
            print(
                f"emulator {emulator_url} (pid {emulator.pid}, upstream latency {args.upstream_latency_ms} ms), "
                f"gateway {gateway_url} (pid {gateway.pid}); {os.cpu_count()} CPUs; "
                f"per point {args.duration:g} s measured per side in {args.rounds} interleaved slices "
                f"(warm-up {args.warmup:g} s, then {args.slice_warmup:g} s per slice)",
                flush=True,
            )
            plan = [("non-stream", c) for c in args.concurrency] + [("stream", c) for c in args.stream_concurrency]
            for mode, concurrency in plan:
                direct, through = _targets(
                    emulator_url, gateway_url, gateway_key, mode == "stream", args.chunk_interval_ms, args.model
                )
                row = await measure(session, mode, concurrency, direct, through, gateway.pid, emulator.pid, args)
                rows.append(row)
                print(
                    f"  {mode} c={concurrency}: added p50 {format_ms(row.added(50), True)} ms, "
                    f"p99 {format_ms(row.added(99), True)} ms, {row.gateway.rps:.0f} rps, "
                    f"{row.gateway.error_count} errors",
                    flush=True,
                )
        if gateway.poll() is not None:
            print(f"warning: the gateway exited early:\n{log_tail(gateway_log)}", file=sys.stderr)
        elif (log := log_tail(gateway_log, 10)):
            print(f"gateway log (last lines):\n{log}", file=sys.stderr)
    finally:
        stop_process(gateway)
        stop_process(emulator)
    return rows


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream-latency-ms", type=int, default=50, help="emulator latency (default 50)")
    parser.add_argument("--concurrency", type=_int_list, default=[1, 8, 32, 64], help="non-stream points")
    parser.add_argument("--stream-concurrency", type=_int_list, default=[50, 200], help="stream points")
    parser.add_argument("--chunk-interval-ms", type=int, default=5, help="delay between stream chunks")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per point")
    parser.add_argument("--warmup", type=float, default=1.0, help="discarded seconds before a point's first slice")
    parser.add_argument("--rounds", type=int, default=3, help="direct/gateway slices per point, interleaved")
    parser.add_argument("--slice-warmup", type=float, default=0.5, help="discarded seconds before later slices")
    parser.add_argument("--quick", action="store_true", help="concurrency 1,32; streams 50; 2 s points, 2 rounds")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--model", default=GATEWAY_MODEL,
                        help=f"the model asked of the gateway (default {GATEWAY_MODEL}; `auto` adds routing)")
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrency, args.stream_concurrency, args.duration, args.rounds = [1, 32], [50], 2.0, 2
    return args


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C (the children also get PDEATHSIG)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        try:
            rows = run(bench(args, Path(tmp)))
        except KeyboardInterrupt:
            print("interrupted; subprocesses stopped", file=sys.stderr)
            return 130
    print()
    print(format_table(rows))
    if args.json:
        settings = {name: getattr(args, name) for name in (
            "upstream_latency_ms", "concurrency", "stream_concurrency", "chunk_interval_ms", "duration", "warmup",
            "rounds", "slice_warmup")}
        payload = {
            "settings": settings,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "rows": [row.as_json() for row in rows],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
