"""`python -m scripts.emulator --port 8788`: serve the emulator until killed (the demo and the benchmark)."""

from __future__ import annotations

import argparse
import asyncio

from scripts.emulator.runner import running_emulator
from scripts.emulator.server import EmulatorConfig


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay before an answer / stream headers")
    parser.add_argument("--ttft-ms", type=int, default=0, help="extra delay before the first stream chunk")
    parser.add_argument("--chunk-interval-ms", type=int, default=0, help="delay between stream chunks")
    parser.add_argument("--stall-seconds", type=float, default=300, help="cap for the stall fault")
    parser.add_argument("--slow-first-token-ms", type=int, default=5000, help="delay of slow-first-token")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        latency_ms=args.latency_ms,
        ttft_ms=args.ttft_ms,
        chunk_interval_ms=args.chunk_interval_ms,
        stall_seconds=args.stall_seconds,
        slow_first_token_ms=args.slow_first_token_ms,
    )
    async with running_emulator(args.host, args.port, config) as running:
        # Scripts wait for this exact line (and read the port from it when --port 0).
        print(f"emulator listening on {running.base_url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    try:
        runner(_serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
