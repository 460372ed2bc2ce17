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
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from scripts.bench_load import PointResult, Target, new_session, percentile, run_point  # noqa: E402

GATEWAY_MODEL = "openai/gpt-4o-mini"
DIRECT_MODEL = "gpt-4o-mini"
PROMPT = (
    "Summarise in one paragraph why a gateway in front of several model providers helps a small team "
    "ship features faster while keeping costs visible."
)  # ~25 words: the emulator's reply echoes it, one word per stream chunk
TARGET_CONCURRENCY, TARGET_P50_MS, TARGET_P99_MS = 32, 2.0, 10.0
TARGET_STREAMS = 200
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- processes -------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Children get SIGTERM if this process dies without cleaning up (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(args: list[str], log_path: Path, env: dict[str, str] | None = None, stdout=None) -> subprocess.Popen:
    log = open(log_path, "wb")
    try:
        return subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=stdout or log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent,
        )
    finally:
        log.close()  # the child holds its own descriptor


def _stop(proc: subprocess.Popen | None, first: int = signal.SIGINT) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(first)  # SIGINT: uvicorn shuts down gracefully, the emulator exits its loop
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_emulator(latency_ms: int, workdir: Path) -> tuple[subprocess.Popen, str]:
    log = workdir / "emulator.log"
    proc = _spawn(
        [sys.executable, "-m", "scripts.emulator", "--host", "127.0.0.1", "--port", "0",
         "--latency-ms", str(latency_ms)],
        log, stdout=subprocess.PIPE,  # read for its "listening on" line; it prints nothing else
    )
    deadline = time.monotonic() + 20
    line = b""
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(b"emulator listening on "):
                return proc, line.decode().split()[-1]
    _stop(proc)
    raise RuntimeError(f"the emulator did not start ({line!r}):\n{_tail(log)}")


def start_gateway(emulator_url: str, admin_key: str, workdir: Path) -> tuple[subprocess.Popen, str, Path]:
    port = _free_port()
    env = {
        **os.environ,
        "OPENAI_API_KEY": "bench",
        "OPENAI_BASE_URL": emulator_url + "/v1",
        "GATEWAY_ADMIN_KEY": admin_key,
        "LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    }
    log = workdir / "gateway.log"
    proc = _spawn(
        [sys.executable, str(ROOT / "scripts" / "run_local.py"), "--host", "127.0.0.1", "--port", str(port),
         "--db", str(workdir / "gateway.sqlite3")],
        log, env=env,
    )
    return proc, f"http://127.0.0.1:{port}", log


async def wait_healthy(session: aiohttp.ClientSession, base_url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the gateway exited with {proc.returncode}:\n{_tail(log)}")
        try:
            async with session.get(base_url + "/health") as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the gateway did not become healthy in 30 s:\n{_tail(log)}")


async def create_gateway_key(session: aiohttp.ClientSession, base_url: str, admin_key: str) -> str:
    async with session.post(
        base_url + "/admin/keys", json={"name": "bench"}, headers={"Authorization": f"Bearer {admin_key}"}
    ) as response:
        body = await response.json()
        if response.status != 201:
            raise RuntimeError(f"POST /admin/keys answered {response.status}: {body}")
        return body["key"]


# ---- /proc -----------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount, _unit = line.split()
                values[name[:-1]] = int(amount) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of all CPUs from /proc/stat; busy excludes idle, iowait and steal."""
    with open("/proc/stat") as handle:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, handle.readline().split()[1:9])
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + steal + idle + iowait


class CpuMeter:
    """CPU time used while the gateway slices of a point run, summed over `start()`/`stop()` pairs:
    per process (gateway, emulator, this load generator) and for the whole machine (busy and steal)."""

    def __init__(self, gateway_pid: int, emulator_pid: int) -> None:
        self.pids = {"gateway": gateway_pid, "emulator": emulator_pid}
        self._start: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def _sample(self) -> dict[str, float]:
        sample = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        times = os.times()
        sample["load generator"] = times.user + times.system
        sample["machine busy"], sample["machine steal"], sample["machine total"] = machine_ticks()
        return sample

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> None:
        end = self._sample()
        for name, value in end.items():
            self.used[name] = self.used.get(name, 0.0) + value - self._start[name]

    def share(self, name: str) -> float:
        """Percent of all CPU time of the machine (every core) over the measured slices."""
        total = self.used.get("machine total", 0.0)
        return self.used.get(name, 0.0) / total * 100 if total else 0.0


# ---- one row ---------------------------------------------------------------------------------------


@dataclass
class Row:
    mode: str  # "non-stream" | "stream"
    concurrency: int
    direct: PointResult
    gateway: PointResult
    gateway_cpu_ms_per_request: float | None
    emulator_cpu_ms_per_request: float | None
    load_generator_cpu_ms_per_request: float | None
    box_busy_percent: float  # of all cores, while the gateway slices ran
    box_steal_percent: float  # time the hypervisor gave the cores to someone else
    rss_mb: float
    peak_rss_mb: float

    def added(self, p: float, attr: str = "latencies_ms") -> float | None:
        through, direct = percentile(getattr(self.gateway, attr), p), percentile(getattr(self.direct, attr), p)
        return None if through is None or direct is None else through - direct

    def verdict(self) -> str:
        if self.mode == "non-stream" and self.concurrency == TARGET_CONCURRENCY:
            p50, p99 = self.added(50), self.added(99)
            ok = p50 is not None and p99 is not None and p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS
            return f"{'PASS' if ok else 'MISS'} (p50<={TARGET_P50_MS:g}, p99<={TARGET_P99_MS:g})"
        if self.mode == "stream" and self.concurrency == TARGET_STREAMS:
            ok = self.gateway.error_count == 0 and self.gateway.ok > 0
            return f"{'PASS' if ok else 'MISS'} (0 errors)"
        return ""

    def as_json(self) -> dict:
        def side(result: PointResult) -> dict:
            figures = {
                "requests_ok": result.ok,
                "rps": round(result.rps, 1),
                "errors": dict(result.errors),
                "latency_ms": {f"p{p}": _round(percentile(result.latencies_ms, p)) for p in (50, 90, 99)},
            }
            if result.ttft_ms:
                figures["ttft_ms"] = {f"p{p}": _round(percentile(result.ttft_ms, p)) for p in (50, 90, 99)}
            if result.overhead_ms:
                figures["overhead_header_ms"] = {
                    f"p{p}": _round(percentile(result.overhead_ms, p)) for p in (50, 90, 99)
                }
            return figures

        figures = {
            "mode": self.mode,
            "concurrency": self.concurrency,
            "direct": side(self.direct),
            "gateway": side(self.gateway),
            "added_ms": {"p50": _round(self.added(50)), "p99": _round(self.added(99))},
            "gateway_cpu_ms_per_request": _round(self.gateway_cpu_ms_per_request),
            "emulator_cpu_ms_per_request": _round(self.emulator_cpu_ms_per_request),
            "load_generator_cpu_ms_per_request": _round(self.load_generator_cpu_ms_per_request),
            "box_busy_percent": round(self.box_busy_percent, 1),
            "box_steal_percent": round(self.box_steal_percent, 1),
            "gateway_rss_mb": round(self.rss_mb, 1),
            "gateway_peak_rss_mb": round(self.peak_rss_mb, 1),
            "target": self.verdict() or None,
        }
        if self.mode == "stream":
            figures["ttft_added_ms"] = {f"p{p}": _round(self.added(p, "ttft_ms")) for p in (50, 99)}
        return figures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


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


def _ms(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def _pair(a: float | None, b: float | None, signed: bool = False) -> str:
    return f"{_ms(a, signed)}/{_ms(b, signed)}"


def _table_row(r: Row, fifth: str) -> tuple[str, ...]:
    d, g = r.direct, r.gateway
    return (
        f"c={r.concurrency}",
        _pair(percentile(d.latencies_ms, 50), percentile(d.latencies_ms, 99)),
        _pair(percentile(g.latencies_ms, 50), percentile(g.latencies_ms, 99)),
        _pair(r.added(50), r.added(99), signed=True),
        fifth,
        f"{d.rps:.0f}/{g.rps:.0f}",
        f"{d.error_count}/{g.error_count}",
        "-" if r.gateway_cpu_ms_per_request is None else f"{r.gateway_cpu_ms_per_request:.2f}",
        f"{r.box_busy_percent:.0f}/{r.box_steal_percent:.0f}%",
        f"{r.rss_mb:.0f}/{r.peak_rss_mb:.0f}",
        r.verdict(),
    )


def format_table(rows: list[Row]) -> str:
    non_stream = [row for row in rows if row.mode == "non-stream"]
    streams = [row for row in rows if row.mode == "stream"]
    out: list[str] = []
    if non_stream:
        head = ("non-stream", "direct p50/p99", "gateway p50/p99", "ADDED p50/p99", "hdr p50/p99", "rps d/g",
                "err d/g", "gw CPU ms/req", "box busy/steal", "RSS/peak MB", "target")
        out += _columns(head, [
            _table_row(r, _pair(percentile(r.gateway.overhead_ms, 50), percentile(r.gateway.overhead_ms, 99)))
            for r in non_stream
        ])
    if streams:
        if out:
            out.append("")
        head = ("stream", "direct p50/p99", "gateway p50/p99", "ADDED p50/p99", "TTFT added p50/p99", "rps d/g",
                "err d/g", "gw CPU ms/stream", "box busy/steal", "RSS/peak MB", "target")
        out += _columns(head, [
            _table_row(r, _pair(r.added(50, "ttft_ms"), r.added(99, "ttft_ms"), signed=True)) for r in streams
        ])
    out += [
        "",
        "ADDED = gateway minus direct percentile (what a client pays); hdr = the gateway's x-gateway-overhead-ms;",
        "gw CPU = gateway process CPU time per request served; box busy/steal = all cores while the gateway",
        "slices ran (steal: time the hypervisor took away; high steal makes latency figures noisy). See --help.",
    ]
    errors = [
        f"  {r.mode} c={r.concurrency} {side}: {dict(result.errors)}"
        for r in rows for side, result in (("direct", r.direct), ("gateway", r.gateway)) if result.errors
    ]
    if errors:
        out += ["", "errors by kind:", *errors]
    return "\n".join(out)


def _columns(head: tuple[str, ...], body: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(head, *body)]
    line = lambda cells: "  ".join(cell.rjust(width) if i else cell.ljust(width)  # noqa: E731
                                   for i, (cell, width) in enumerate(zip(cells, widths))).rstrip()
    return [line(head), "-" * len(line(head)), *(line(cells) for cells in body)]


# ---- main ------------------------------------------------------------------------------------------


def _targets(emulator_url: str, gateway_url: str, gateway_key: str, stream: bool, chunk_interval_ms: int):
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
        json.dumps({"model": GATEWAY_MODEL, **body}).encode(),
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
                    emulator_url, gateway_url, gateway_key, mode == "stream", args.chunk_interval_ms
                )
                row = await measure(session, mode, concurrency, direct, through, gateway.pid, emulator.pid, args)
                rows.append(row)
                print(
                    f"  {mode} c={concurrency}: added p50 {_ms(row.added(50), True)} ms, "
                    f"p99 {_ms(row.added(99), True)} ms, {row.gateway.rps:.0f} rps, "
                    f"{row.gateway.error_count} errors",
                    flush=True,
                )
        if gateway.poll() is not None:
            print(f"warning: the gateway exited early:\n{_tail(gateway_log)}", file=sys.stderr)
        elif (log := _tail(gateway_log, 10)):
            print(f"gateway log (last lines):\n{log}", file=sys.stderr)
    finally:
        _stop(gateway)
        _stop(emulator)
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
