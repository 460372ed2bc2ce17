"""Micro-benchmark of the smart router's ranking (pipeline/router.py): µs per `rank()` call over the seeded
catalog (catalog/models.json), per strategy, for a typical chat request; plus `chat_needs` and the
route-reason header, which the auto path also pays.

Three figures per strategy: `mapping` passes the catalog mapping the gateway has (`Catalog.models`, whose
per-model static numbers are prepared once and reused, found by the mapping's identity), `values` passes
`Catalog.models.values()` (prepared once, found by its rows' identities), `uncached` prepares the catalog
on every call (the router's per-catalog cache emptied before each call: the cost without it).

    .venv/bin/python scripts/bench_router.py [--calls N]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from gateway.pipeline import router  # noqa: E402
from gateway.pipeline.router import STRATEGIES, chat_needs, rank  # noqa: E402

BODY = {
    "model": "auto",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
        {"role": "user", "content": "Summarise the plot of Hamlet in three sentences, please." * 4},
    ],
    "max_tokens": 300,
}


class View:
    """A world where every provider has a key, no circuit is open, the neuron budget is ample and the key
    may use everything; a few models have measured latency (so `fastest` pays its correction)."""

    def __init__(self) -> None:
        self._measured = {"openai/gpt-4o-mini": (420.0, 12), "groq/llama-3.1-8b-instant": (180.0, 30)}

    def has_key(self, provider_id: str) -> bool:
        return True

    def circuit_open(self, model_id: str) -> bool:
        return False

    def measured_ms(self, model_id: str) -> tuple[float | None, int]:
        return self._measured.get(model_id, (None, 0))

    def neurons_fit(self, entry: dict, needs: object) -> bool:
        return True

    def allowed(self, entry: dict) -> bool:
        return True


def per_call_us(fn, calls: int, repeats: int = 5) -> float:
    """The best of `repeats` runs of `calls` calls, in µs per call (the best run: the least disturbed)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - started) / calls)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    rows = json.loads((ROOT / "catalog" / "models.json").read_text())["models"]
    mapping = {row["id"]: row for row in rows}
    view = View()
    needs = chat_needs(BODY)
    chat = sum(1 for row in rows if row["modality"] == "chat")
    print(f"catalog: {len(rows)} models, {chat} chat; request: {needs.prompt_tokens} prompt tokens, "
          f"{needs.output_tokens} output")
    def uncached(strategy: str):
        router._BY_ROWS.clear()  # the benchmark's one reach into the module: the cost without its cache
        return rank(rows, needs, strategy, view)

    print(f"{'strategy':<10} {'mapping µs':>11} {'values µs':>10} {'uncached µs':>12} {'candidates':>11}  winner")
    for strategy in STRATEGIES:
        ranking = rank(mapping, needs, strategy, view)
        by_mapping = per_call_us(lambda: rank(mapping, needs, strategy, view), args.calls)
        by_values = per_call_us(lambda: rank(mapping.values(), needs, strategy, view), args.calls)
        cold = per_call_us(lambda: uncached(strategy), max(args.calls // 10, 1))
        print(f"{strategy:<10} {by_mapping:>11.1f} {by_values:>10.1f} {cold:>12.1f} {len(ranking.ranked):>11}  "
              f"{ranking.ranked[0].model_id}")
    ranking = rank(mapping, needs, "balanced", view)
    print(f"chat_needs: {per_call_us(lambda: chat_needs(BODY), args.calls):.1f} µs; "
          f"reason(): {per_call_us(ranking.reason, args.calls):.1f} µs")
    print(f"x-gateway-route-reason: {ranking.reason()}")


if __name__ == "__main__":
    main()
