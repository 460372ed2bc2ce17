"""The benchmark's figures: one Row per mode and concurrency, its verdict against the targets,
and the printed table."""

from __future__ import annotations

from dataclasses import dataclass

from scripts.bench_load import PointResult, percentile

TARGET_CONCURRENCY, TARGET_P50_MS, TARGET_P99_MS = 32, 2.0, 10.0
TARGET_STREAMS = 200


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


def format_ms(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def _pair(a: float | None, b: float | None, signed: bool = False) -> str:
    return f"{format_ms(a, signed)}/{format_ms(b, signed)}"


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
