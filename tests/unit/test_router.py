"""The smart router's ranking (pipeline/router.py) on a fixed catalog built here: each expectation is
derived by hand from the formulas in docs/routing.md (the arithmetic is written out in the test), plus one
brute-force recomputation over the seeded catalog."""

from __future__ import annotations

import asyncio
import math

import pytest

from gateway.errors import InvalidRequestError
from gateway.pipeline.strategies import DEFAULT_STRATEGY, STRATEGIES
from gateway.pipeline.router import (
    Needs,
    Ranking,
    Scored,
    chat_needs,
    max_cost_of,
    measured_speed,
    needs_for,
    parse_auto,
    rank,
)


def model(model_id, quality, speed, input_usd=None, output_usd=None, *, modality="chat", window=128_000,
          vision=True, tools=True, json=True, enabled=True, **columns):
    row = {"id": model_id, "provider_id": model_id.split("/")[0], "upstream_name": model_id.split("/", 1)[1],
           "modality": modality, "supports_vision": vision, "supports_tools": tools, "supports_json": json,
           "supports_streaming": True, "context_window": window, "input_usd_per_mtok": input_usd,
           "output_usd_per_mtok": output_usd, "quality_score": quality, "speed_score": speed,
           "score_source": "editorial", "enabled": enabled}
    row.update(columns)
    return row


# The fixed chat catalog. Blended cost per Mtok = (3 × input + output) / 4, floored at 0.01.
PREMIUM = model("acme/premium", 9.5, 4.0, 10.0, 40.0, window=200_000)        # blend (30 + 40)/4 = 17.5
FAST = model("bolt/fast", 6.0, 9.5, 0.5, 1.5, window=32_000)                  # blend (1.5 + 1.5)/4 = 0.75
CHEAP = model("cheapo/cheap", 5.0, 7.0, 0.05, 0.08, window=8_000, vision=False)  # (0.15 + 0.08)/4 = 0.0575
MID = model("mido/mid", 8.0, 7.5, 1.0, 4.0, tools=False, max_output_tokens=4096)  # blend (3 + 4)/4 = 1.75
FREE = model("workers-ai/free", 6.5, 6.0, 0.0, 0.0, window=None, json=False)  # blend 0 -> floor 0.01
CHAT = [PREMIUM, FAST, CHEAP, MID, FREE]
OTHERS = [
    model("acme/embed", 7.0, 9.0, 0.02, modality="embedding", window=8191),
    model("acme/old-chat", 9.9, 9.9, 0.01, 0.01, enabled=False),
]
CATALOG = {row["id"]: row for row in CHAT + OTHERS}

# balanced = quality × 2 + speed − 2 × log10(blend)
BALANCED = {
    "acme/premium": 9.5 * 2 + 4.0 - 2 * math.log10(17.5),    # 20.514
    "bolt/fast": 6.0 * 2 + 9.5 - 2 * math.log10(0.75),       # 21.750
    "cheapo/cheap": 5.0 * 2 + 7.0 - 2 * math.log10(0.0575),  # 19.481
    "mido/mid": 8.0 * 2 + 7.5 - 2 * math.log10(1.75),        # 23.014
    "workers-ai/free": 6.5 * 2 + 6.0 - 2 * math.log10(0.01),  # 23.000: the floor, not log10(0)
}


class View:
    """The world as a test sets it: keys per provider, open circuits, measured latency, neuron budget, policy."""

    def __init__(self, *, no_key=(), open_circuits=(), measured=None, neurons_ok=True, allowed=None):
        self.no_key = set(no_key)
        self.open_circuits = set(open_circuits)
        self.measured = measured or {}
        self.neurons_ok = neurons_ok
        self.allowed_ids = allowed
        self.neuron_asks: list[str] = []
        self.key_asks: list[str] = []

    def has_key(self, provider_id):
        self.key_asks.append(provider_id)
        return provider_id not in self.no_key

    def circuit_open(self, model_id):
        return model_id in self.open_circuits

    def measured_ms(self, model_id):
        return self.measured.get(model_id, (None, 0))

    def neurons_fit(self, entry, needs):
        self.neuron_asks.append(entry["id"])
        return self.neurons_ok

    def allowed(self, entry):
        return self.allowed_ids is None or entry["id"] in self.allowed_ids


TEXT = Needs("chat", prompt_tokens=1000, output_tokens=500)


def ids(ranking: Ranking) -> list[str]:
    return [s.model_id for s in ranking.ranked]


# --- the four strategies on the fixed catalog --------------------------------------------------------------

def test_balanced_picks_the_highest_quality_speed_cost_blend():
    ranking = rank(CATALOG, TEXT, "balanced", View())
    # mid 23.014 > free 23.000 (its 0 price floored at 0.01) > fast 21.750 > premium 20.514 > cheap 19.481
    assert ids(ranking) == ["mido/mid", "workers-ai/free", "bolt/fast", "acme/premium", "cheapo/cheap"]
    for scored in ranking.ranked:
        assert scored.score == pytest.approx(BALANCED[scored.model_id])
    mid = ranking.ranked[0]
    assert (mid.quality, mid.speed, mid.cost_per_mtok) == (8.0, 7.5, pytest.approx(1.75))
    assert ranking.ranked[1].cost_per_mtok == 0.01


def test_cheapest_is_the_lowest_expected_cost_of_this_request():
    ranking = rank(CATALOG, TEXT, "cheapest", View())
    # expected = 1000 × input / 1e6 + 500 × output / 1e6
    expected = {
        "workers-ai/free": 0.0,
        "cheapo/cheap": 1000 * 0.05 / 1e6 + 500 * 0.08 / 1e6,    # 0.00009
        "bolt/fast": 1000 * 0.5 / 1e6 + 500 * 1.5 / 1e6,         # 0.00125
        "mido/mid": 1000 * 1.0 / 1e6 + 500 * 4.0 / 1e6,          # 0.003
        "acme/premium": 1000 * 10.0 / 1e6 + 500 * 40.0 / 1e6,    # 0.03
    }
    assert ids(ranking) == list(expected)
    for scored in ranking.ranked:
        assert scored.expected_cost_usd == pytest.approx(expected[scored.model_id])
        assert scored.score == pytest.approx(-expected[scored.model_id])


def test_cheapest_depends_on_the_requests_shape():
    """Output-heavy requests favour cheap output: with 10 prompt tokens and 4000 output tokens a model with
    dear input but cheap output wins over one whose blend is lower."""
    dear_in = model("x/dear-in", 5, 5, 2.0, 0.1)    # 10 × 2.0 + 4000 × 0.1 = 420 µUSD (blend 1.525)
    dear_out = model("y/dear-out", 5, 5, 0.1, 0.5)  # 10 × 0.1 + 4000 × 0.5 = 2001 µUSD (blend 0.2)
    catalog = {m["id"]: m for m in (dear_in, dear_out)}
    output_heavy = Needs("chat", prompt_tokens=10, output_tokens=4000)
    assert ids(rank(catalog, output_heavy, "cheapest", View()))[0] == "x/dear-in"
    # prompt-heavy: 100000 × 2.0 + 10 × 0.1 vs 100000 × 0.1 + 10 × 0.5
    prompt_heavy = Needs("chat", prompt_tokens=100_000, output_tokens=10)
    assert ids(rank(catalog, prompt_heavy, "cheapest", View()))[0] == "y/dear-out"


def test_cheapest_counts_every_choice_of_n():
    needs = chat_needs({"messages": [{"role": "user", "content": "x" * 400}], "max_tokens": 100, "n": 3})
    scored = rank({FAST["id"]: FAST}, needs, "cheapest", View()).ranked[0]
    assert scored.expected_cost_usd == pytest.approx(100 * 0.5 / 1e6 + 3 * 100 * 1.5 / 1e6)


def test_quality_is_the_quality_score():
    ranking = rank(CATALOG, TEXT, "quality", View())
    assert ids(ranking) == ["acme/premium", "mido/mid", "workers-ai/free", "bolt/fast", "cheapo/cheap"]
    assert [s.score for s in ranking.ranked] == [9.5, 8.0, 6.5, 6.0, 5.0]


def test_fastest_without_enough_samples_is_the_catalog_speed():
    view = View(measured={"bolt/fast": (5000.0, 4)})  # 4 samples < 5: not enough to correct
    ranking = rank(CATALOG, TEXT, "fastest", view)
    assert ids(ranking) == ["bolt/fast", "mido/mid", "cheapo/cheap", "workers-ai/free", "acme/premium"]
    assert ranking.ranked[0].speed == 9.5


def test_fastest_is_corrected_by_measured_latency():
    # bolt/fast measured 2000 ms over 10 samples: measured = 10 − 5 × log10(2000 / 100) = 3.495,
    # effective = 0.5 × 9.5 + 0.5 × 3.495 = 6.497: below mid (7.5) and cheap (7.0), above free (6.0).
    # acme/premium measured 50 ms: 10 − 5 × log10(0.5) = 11.5, clamped to 10 -> 0.5 × 4 + 0.5 × 10 = 7.0,
    # tied with cheap's 7.0: the lower blend (cheap 0.0575 < premium 17.5) goes first.
    view = View(measured={"bolt/fast": (2000.0, 10), "acme/premium": (50.0, 5)})
    ranking = rank(CATALOG, TEXT, "fastest", view)
    assert ids(ranking) == ["mido/mid", "cheapo/cheap", "acme/premium", "bolt/fast", "workers-ai/free"]
    fast = next(s for s in ranking.ranked if s.model_id == "bolt/fast")
    assert fast.speed == pytest.approx(0.5 * 9.5 + 0.5 * (10 - 5 * math.log10(20)))
    assert fast.score == fast.speed
    premium = next(s for s in ranking.ranked if s.model_id == "acme/premium")
    assert premium.speed == pytest.approx(7.0)


def test_measured_speed_scale():
    assert measured_speed(100) == 10.0
    assert measured_speed(1000) == pytest.approx(5.0)
    assert measured_speed(10_000) == pytest.approx(0.0)
    assert measured_speed(60_000) == 0.0  # clamped
    assert measured_speed(5) == 10.0      # clamped
    assert measured_speed(0) == 10.0      # no log10(0)


def test_fastest_ignores_a_measurement_without_a_figure():
    """Five failures and no success: samples but no EWMA, so the catalog speed stands."""
    ranking = rank({FAST["id"]: FAST}, TEXT, "fastest", View(measured={"bolt/fast": (None, 7)}))
    assert ranking.ranked[0].speed == 9.5


# --- ties ----------------------------------------------------------------------------------------------------

def test_ties_break_by_cost_then_quality_then_id():
    # quality ties at 8.0: the lower blend first ((3×1 + 1)/4 = 1.0 < (3×2 + 2)/4 = 2.0)
    dear = model("a/dear", 8.0, 5.0, 2.0, 2.0)
    cheap = model("z/cheap", 8.0, 5.0, 1.0, 1.0)
    assert ids(rank({m["id"]: m for m in (dear, cheap)}, TEXT, "quality", View())) == ["z/cheap", "a/dear"]
    # balanced ties (8×2 + 6 = 7×2 + 8 = 22 at the same cost): the higher quality first
    high = model("b/high", 8.0, 6.0, 1.0, 1.0)
    low = model("a/low", 7.0, 8.0, 1.0, 1.0)
    ranking = rank({m["id"]: m for m in (low, high)}, TEXT, "balanced", View())
    assert ids(ranking) == ["b/high", "a/low"]
    assert ranking.ranked[0].score == ranking.ranked[1].score
    # everything equal: model id ascending, whatever the catalog's order
    twins = [model(f"{p}/twin", 7.0, 7.0, 1.0, 1.0) for p in ("c", "a", "b")]
    for strategy in STRATEGIES:
        assert ids(rank({m["id"]: m for m in twins}, TEXT, strategy, View())) == ["a/twin", "b/twin", "c/twin"]


def test_cheapest_ties_between_free_models_go_to_quality():
    free_low = model("a/free-low", 5.0, 9.0, 0.0, 0.0)
    free_high = model("b/free-high", 6.0, 5.0, 0.0, 0.0)
    ranking = rank({m["id"]: m for m in (free_low, free_high)}, TEXT, "cheapest", View())
    assert ids(ranking) == ["b/free-high", "a/free-low"]  # both cost 0 and blend to 0.01


# --- filters, each with its reason -----------------------------------------------------------------------

def excluded_code(ranking: Ranking, model_id: str) -> str:
    return ranking.excluded[model_id].split(":", 1)[0]


def test_other_modalities_and_disabled_models_are_excluded_with_their_reason():
    ranking = rank(CATALOG, TEXT, "balanced", View())
    assert len(ranking.ranked) == 5
    assert set(ranking.excluded) == {"acme/embed", "acme/old-chat"}
    assert excluded_code(ranking, "acme/embed") == "modality"
    assert "embedding model" in ranking.excluded["acme/embed"]
    assert excluded_code(ranking, "acme/old-chat") == "disabled"
    embed = rank(CATALOG, Needs("embedding", prompt_tokens=10, output_tokens=0), "balanced", View())
    assert ids(embed) == ["acme/embed"]
    assert {excluded_code(embed, m["id"]) for m in CHAT} == {"modality"}


@pytest.mark.parametrize("needs, model_id, code", [
    (Needs("chat", vision=True), "cheapo/cheap", "vision"),
    (Needs("chat", tools=True), "mido/mid", "tools"),
    (Needs("chat", json=True), "workers-ai/free", "json"),
])
def test_capability_filters(needs, model_id, code):
    ranking = rank(CATALOG, needs, "balanced", View())
    assert model_id not in ids(ranking)
    assert excluded_code(ranking, model_id) == code
    assert len(ranking.ranked) == 4


def test_context_window_must_hold_prompt_and_output():
    # 31000 + 1000 = 32000 fits bolt/fast's 32000 exactly; cheap's 8000 does not; free's unknown window is allowed
    fits = rank(CATALOG, Needs("chat", prompt_tokens=31_000, output_tokens=1000), "quality", View())
    assert "bolt/fast" in ids(fits) and "workers-ai/free" in ids(fits)
    assert fits.excluded["cheapo/cheap"] == "context: context_window 8000 < 32000 tokens needed"
    over = rank(CATALOG, Needs("chat", prompt_tokens=31_001, output_tokens=1000), "quality", View())
    assert excluded_code(over, "bolt/fast") == "context"
    assert ids(over) == ["acme/premium", "mido/mid", "workers-ai/free"]


def test_a_larger_window_for_a_context_length_fallback():
    """min_context_window: strictly larger, and an unknown window does not qualify."""
    ranking = rank(CATALOG, Needs("chat", min_context_window=128_000), "quality", View())
    assert ids(ranking) == ["acme/premium"]  # 200000 > 128000; mid's 128000 is not larger
    assert excluded_code(ranking, "mido/mid") == "context"
    assert ranking.excluded["workers-ai/free"] == "context: context_window unknown is not larger than 128000"


def test_max_output_must_hold_the_requested_output():
    fits = rank(CATALOG, Needs("chat", output_tokens=4096), "quality", View())
    assert "mido/mid" in ids(fits)
    over = rank(CATALOG, Needs("chat", output_tokens=4097), "quality", View())
    assert over.excluded["mido/mid"] == "max_output: max_output_tokens 4096 < 4097 requested"
    assert len(over.ranked) == 4  # the others list no max_output_tokens: unknown, allowed


def test_a_streaming_request_needs_a_streaming_model():
    batch = model("q/batch-only", 9.0, 9.0, 1.0, 1.0, supports_streaming=False)
    catalog = {m["id"]: m for m in (batch, FAST)}
    needs = chat_needs({"messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert needs.stream
    ranking = rank(catalog, needs, "quality", View())
    assert ids(ranking) == ["bolt/fast"]
    assert ranking.excluded["q/batch-only"] == "streaming: the request streams and the model does not"
    assert ids(rank(catalog, Needs("chat"), "quality", View())) == ["q/batch-only", "bolt/fast"]


def test_max_cost_excludes_what_would_cost_more():
    # mid: 1000 × 1.0/1e6 + 500 × 4.0/1e6 = 0.003 ≤ 0.003 stays; premium 0.03 goes
    ranking = rank(CATALOG, Needs("chat", prompt_tokens=1000, output_tokens=500, max_cost_usd=0.003), "quality", View())
    assert ids(ranking) == ["mido/mid", "workers-ai/free", "bolt/fast", "cheapo/cheap"]
    assert ranking.excluded["acme/premium"] == "max_cost: expected cost 0.03 USD > max_cost 0.003"


def test_max_cost_excludes_an_unpriced_model():
    unpriced = model("n/unpriced", 9.0, 9.0)
    ranking = rank({unpriced["id"]: unpriced}, Needs("chat", max_cost_usd=1.0), "quality", View())
    assert ranking.ranked == ()
    assert ranking.excluded["n/unpriced"] == "max_cost: the model is unpriced for this request"


def test_no_key_circuit_policy_and_neurons():
    view = View(no_key={"acme"}, open_circuits={"bolt/fast"}, neurons_ok=False,
                allowed={"bolt/fast", "cheapo/cheap", "workers-ai/free", "acme/premium"})
    ranking = rank(CATALOG, TEXT, "balanced", view)
    assert ids(ranking) == ["cheapo/cheap"]
    assert excluded_code(ranking, "acme/premium") == "no_key"
    assert excluded_code(ranking, "bolt/fast") == "circuit_open"
    assert excluded_code(ranking, "workers-ai/free") == "neurons"
    assert excluded_code(ranking, "mido/mid") == "not_allowed"
    assert view.neuron_asks == ["workers-ai/free"]  # the budget is asked about Workers AI models only


def test_the_key_is_asked_once_per_provider():
    twins = [model(f"acme/m{i}", 7, 7, 1, 1) for i in range(4)]
    view = View()
    rank({m["id"]: m for m in twins}, TEXT, "balanced", view)
    assert view.key_asks == ["acme"]


def test_an_empty_ranking_is_legal_and_says_so():
    ranking = rank(CATALOG, Needs("chat", vision=True, tools=True, json=True, prompt_tokens=500_000), "balanced",
                   View())
    assert ranking.ranked == ()
    assert set(ranking.excluded) == set(CATALOG)
    assert ranking.reason() == ("strategy=balanced; winner=none; score=none; runner_up=none; runner_up_score=none; "
                                "candidates=0; inputs=none")


def test_unknown_strategy_is_a_programming_error():
    with pytest.raises(ValueError):
        rank(CATALOG, TEXT, "slowest", View())


# --- the reason header ---------------------------------------------------------------------------------------

def test_reason_header_format():
    ranking = rank(CATALOG, TEXT, "balanced", View())
    assert ranking.reason() == (
        "strategy=balanced; winner=mido/mid; score=23.01; runner_up=workers-ai/free; runner_up_score=23.00; "
        "candidates=5; inputs=quality:8.00,speed:7.50,cost_per_mtok:1.75"
    )


def test_reason_header_alone_and_for_cheapest():
    alone = rank({CHEAP["id"]: CHEAP}, TEXT, "quality", View())
    assert alone.reason() == ("strategy=quality; winner=cheapo/cheap; score=5.00; runner_up=none; "
                              "runner_up_score=none; candidates=1; inputs=quality:5.00,speed:7.00,cost_per_mtok:0.0575")
    # cheapest's score is minus the expected cost in USD, in plain decimals
    cheapest = rank({m["id"]: m for m in (CHEAP, FAST)}, TEXT, "cheapest", View())
    assert cheapest.reason() == ("strategy=cheapest; winner=cheapo/cheap; score=-0.00009; runner_up=bolt/fast; "
                                 "runner_up_score=-0.00125; candidates=2; inputs=quality:5.00,speed:7.00,"
                                 "cost_per_mtok:0.0575")


def test_reason_header_of_a_corrected_speed():
    ranking = rank({FAST["id"]: FAST}, TEXT, "fastest", View(measured={"bolt/fast": (1000.0, 5)}))
    # 0.5 × 9.5 + 0.5 × (10 − 5 × log10(10)) = 4.75 + 2.5 = 7.25
    assert ranking.reason() == ("strategy=fastest; winner=bolt/fast; score=7.25; runner_up=none; "
                                "runner_up_score=none; candidates=1; inputs=quality:6.00,speed:7.25,cost_per_mtok:0.75")


# --- non-token modalities -------------------------------------------------------------------------------------

TTS = [
    model("v/voice-dear", 9.0, 6.0, modality="tts", window=None, tts_usd_per_mchar=100.0),
    model("v/voice-cheap", 6.0, 8.0, modality="tts", window=None, tts_usd_per_mchar=15.0),
    model("v/voice-free", 5.0, 8.0, modality="tts", window=None, tts_usd_per_mchar=0.0),
    model("v/voice-unpriced", 9.9, 9.9, modality="tts", window=None),
]


def test_tts_cheapest_and_balanced_use_the_price_per_million_characters():
    catalog = {m["id"]: m for m in TTS}
    needs = needs_for("tts", {"input": "x" * 2000})
    assert needs.units == 2000
    cheapest = rank(catalog, needs, "cheapest", View())
    # 2000 chars × USD per Mchar / 1e6; the unpriced model is ranked last, not excluded
    assert ids(cheapest) == ["v/voice-free", "v/voice-cheap", "v/voice-dear", "v/voice-unpriced"]
    assert [s.expected_cost_usd for s in cheapest.ranked] == [0.0, pytest.approx(2000 * 15.0 / 1e6),
                                                               pytest.approx(2000 * 100.0 / 1e6), None]
    balanced = rank(catalog, needs, "balanced", View())
    expected = {
        "v/voice-dear": 9.0 * 2 + 6.0 - 2 * math.log10(100.0),    # 22.0
        "v/voice-cheap": 6.0 * 2 + 8.0 - 2 * math.log10(15.0),    # 17.648
        "v/voice-free": 5.0 * 2 + 8.0 - 2 * math.log10(0.0001),   # 26.0: the unit floor
    }
    assert ids(balanced) == ["v/voice-free", "v/voice-dear", "v/voice-cheap", "v/voice-unpriced"]
    for scored in balanced.ranked[:3]:
        assert scored.score == pytest.approx(expected[scored.model_id])
    assert balanced.ranked[3].score == -math.inf
    assert "cost_per_mtok:none" in rank({TTS[3]["id"]: TTS[3]}, needs, "balanced", View()).reason()
    # quality and fastest do not care about price: the unpriced model wins them
    assert ids(rank(catalog, needs, "quality", View()))[0] == "v/voice-unpriced"


def test_image_price_follows_size_and_quality():
    dalle = model("o/dalle", 7.5, 6.0, modality="image", window=None,
                  image_usd={"1024x1024/standard": 0.04, "1024x1024/hd": 0.08})
    flat = model("g/flat", 8.0, 6.0, modality="image", window=None, image_usd='{"*": 0.06}')  # D1 keeps JSON text
    catalog = {m["id"]: m for m in (dalle, flat)}
    standard = needs_for("image", {"prompt": "a cat", "n": 2, "size": "1024x1024", "quality": "standard"})
    assert (standard.units, standard.size, standard.quality) == (2, "1024x1024", "standard")
    ranking = rank(catalog, standard, "cheapest", View())
    assert ids(ranking) == ["o/dalle", "g/flat"]
    assert [s.expected_cost_usd for s in ranking.ranked] == [pytest.approx(0.08), pytest.approx(0.12)]
    hd = rank(catalog, needs_for("image", {"prompt": "a cat", "n": 2, "size": "1024x1024", "quality": "hd"}),
              "cheapest", View())
    assert ids(hd) == ["g/flat", "o/dalle"]  # 2 × 0.06 < 2 × 0.08
    # a size dall-e has no price for: unpriced, so last for balanced (8×2 + 6 − 2 log10(0.06) for flat)
    odd = rank(catalog, needs_for("image", {"prompt": "a cat", "size": "512x512"}), "balanced", View())
    assert ids(odd) == ["g/flat", "o/dalle"]
    assert odd.ranked[0].score == pytest.approx(8.0 * 2 + 6.0 - 2 * math.log10(0.06))
    assert odd.ranked[1].cost_per_mtok == math.inf and odd.ranked[1].expected_cost_usd is None


def test_stt_is_priced_per_minute_of_the_callers_estimate():
    slow = model("s/slow", 8.0, 6.0, modality="stt", window=None, stt_usd_per_minute=0.006)
    quick = model("s/quick", 7.0, 9.0, modality="stt", window=None, stt_usd_per_minute=0.0004)
    needs = needs_for("stt", {"model": "auto"}, units=3.0)
    ranking = rank({m["id"]: m for m in (slow, quick)}, needs, "cheapest", View())
    assert [(s.model_id, s.expected_cost_usd) for s in ranking.ranked] == [
        ("s/quick", pytest.approx(3 * 0.0004)), ("s/slow", pytest.approx(3 * 0.006))]
    capped = rank({m["id"]: m for m in (slow, quick)}, Needs("stt", units=3.0, max_cost_usd=0.01), "quality", View())
    assert ids(capped) == ["s/quick"]


def test_embeddings_use_the_input_price():
    small = model("e/small", 7.0, 9.0, 0.02, modality="embedding", window=8191)
    large = model("e/large", 8.5, 8.0, 0.13, modality="embedding", window=8191)
    needs = needs_for("embedding", {"input": ["x" * 4000, "y" * 4000]})
    assert (needs.prompt_tokens, needs.output_tokens) == (2000, 0)
    ranking = rank({m["id"]: m for m in (small, large)}, needs, "balanced", View())
    # small: 14 + 9 − 2 log10(0.02) = 26.398; large: 17 + 8 − 2 log10(0.13) = 26.772
    assert ids(ranking) == ["e/large", "e/small"]
    assert ranking.ranked[0].score == pytest.approx(8.5 * 2 + 8.0 - 2 * math.log10(0.13))
    assert ranking.ranked[0].expected_cost_usd == pytest.approx(2000 * 0.13 / 1e6)
    # 8191-token window: one 40000-character input (10000 tokens) does not fit
    over = rank({small["id"]: small}, needs_for("embedding", {"input": "z" * 40_000}), "balanced", View())
    assert excluded_code(over, "e/small") == "context"
    assert needs_for("embedding", {"input": [[1, 2, 3], [4, 5]]}).prompt_tokens == 5


# --- the request's needs --------------------------------------------------------------------------------------

def test_chat_needs_from_the_body():
    body = {
        "model": "auto",
        "messages": [
            {"role": "system", "content": "x" * 40},
            {"role": "user", "content": [{"type": "text", "text": "y" * 41},
                                         {"type": "image_url", "image_url": {"url": "https://e.test/a.png"}}]},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {}}},
        "max_tokens": 900,
        "max_completion_tokens": 700,
    }
    needs = chat_needs(body)
    # 81 characters -> ceil(81 / 4) = 21 tokens, + 765 for the image part
    assert needs == Needs("chat", vision=True, tools=True, json=True, prompt_tokens=21 + 765, output_tokens=700)
    plain = chat_needs({"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "text"}})
    assert plain == Needs("chat", prompt_tokens=1, output_tokens=256)
    assert chat_needs({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 50}).output_tokens == 50
    assert chat_needs({"messages": [], "tools": []}).tools is False
    # tool-call arguments are prompt text too: 10 + 30 characters -> 10 tokens
    history = {"messages": [
        {"role": "user", "content": "u" * 10},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "a" * 30}}]},
    ]}
    assert chat_needs(history).prompt_tokens == 10


@pytest.mark.parametrize("value", ["cheap", "-1", "inf", "nan", ""])
def test_a_bad_max_cost_header_names_the_header(value):
    with pytest.raises(InvalidRequestError) as caught:
        max_cost_of(value)
    assert caught.value.param == "x-gateway-max-cost"
    assert caught.value.status == 400


def test_max_cost_header_text():
    assert max_cost_of("0.05") == 0.05
    assert max_cost_of(" 0 ") == 0.0


def test_needs_for_unknown_modality():
    with pytest.raises(ValueError):
        needs_for("hologram", {})


# --- parse_auto ---------------------------------------------------------------------------------------------

def test_parse_auto():
    assert parse_auto("auto") == ""
    assert DEFAULT_STRATEGY == "balanced"
    for strategy in STRATEGIES:
        assert parse_auto(f"auto/{strategy}") == strategy
    assert parse_auto("openai/gpt-4o-mini") is None
    assert parse_auto("autopilot") is None
    assert parse_auto("gpt-4o") is None


@pytest.mark.parametrize("requested", ["auto/slowest", "auto/", "auto/Cheapest", "auto/balanced/x"])
def test_parse_auto_rejects_an_unknown_strategy(requested):
    with pytest.raises(InvalidRequestError) as caught:
        parse_auto(requested)
    error = caught.value
    assert (error.status, error.param, error.code) == (400, "model", "invalid_strategy")
    for strategy in STRATEGIES:
        assert strategy in error.message


# --- the per-catalog cache ---------------------------------------------------------------------------------

def test_a_reloaded_catalog_is_ranked_with_its_new_prices():
    """The static numbers are cached per catalog mapping; a reload (a new mapping) must not see stale ones."""
    first = {m["id"]: dict(m) for m in CHAT}
    assert ids(rank(first, TEXT, "cheapest", View()))[0] == "workers-ai/free"
    second = {m["id"]: dict(m) for m in CHAT}
    second["workers-ai/free"].update(input_usd_per_mtok=100.0, output_usd_per_mtok=100.0)
    assert ids(rank(second, TEXT, "cheapest", View()))[0] == "cheapo/cheap"
    assert ids(rank(first, TEXT, "cheapest", View()))[0] == "workers-ai/free"
    # the same through Catalog.models.values() (known by its rows' identities)
    assert ids(rank(first.values(), TEXT, "cheapest", View()))[0] == "workers-ai/free"
    assert ids(rank(second.values(), TEXT, "cheapest", View()))[0] == "cheapo/cheap"
    # one row replaced, the others the same objects: a different catalog
    third = dict(first, **{"workers-ai/free": second["workers-ai/free"]})
    assert ids(rank(third.values(), TEXT, "cheapest", View()))[0] == "cheapo/cheap"


def test_a_mapping_and_an_iterable_of_rows_rank_alike():
    for strategy in STRATEGIES:
        by_mapping = rank(CATALOG, TEXT, strategy, View())
        by_rows = rank(list(CATALOG.values()), TEXT, strategy, View())
        assert by_mapping == by_rows
        assert isinstance(by_mapping.ranked[0], Scored)


def test_d1_rows_flags_are_integers():
    """D1 / SQLite give 0/1 flags: a 0 is a missing capability, enabled 0 is disabled."""
    row = dict(CHEAP, supports_vision=0, supports_tools=1, supports_json=1, enabled=1)
    off = dict(FAST, enabled=0)
    ranking = rank({row["id"]: row, off["id"]: off}, Needs("chat", vision=True), "quality", View())
    assert excluded_code(ranking, "cheapo/cheap") == "vision"
    assert excluded_code(ranking, "bolt/fast") == "disabled"


# --- the seeded catalog, recomputed by brute force ---------------------------------------------------------

def test_each_strategys_order_over_the_seeded_catalog(db):
    """The catalog a fresh gateway serves (the migrations, exported as catalog/models.json), ranked for a
    plain chat request, against each formula recomputed here row by row with a sort of its own."""
    rows = asyncio.run(db.query("SELECT * FROM models ORDER BY id DESC")).rows
    chat = [r for r in rows if r["modality"] == "chat" and r["enabled"] == 1]
    assert len(chat) >= 50
    measured = {"groq/llama-3.1-8b-instant": (3000.0, 20), "openai/gpt-4o-mini": (150.0, 9),
                "anthropic/claude-haiku-5-5": (90.0, 4)}
    view = View(measured=measured)
    prompt, output = 1200, 300
    needs = Needs("chat", prompt_tokens=prompt, output_tokens=output)

    def blend(r):
        return max(0.01, 0.75 * r["input_usd_per_mtok"] + 0.25 * r["output_usd_per_mtok"])

    def speed(r):
        ms, samples = measured.get(r["id"], (None, 0))
        if samples < 5:
            return r["speed_score"]
        corrected = 10 - 5 * math.log10(ms / 100)
        return (r["speed_score"] + min(10.0, max(0.0, corrected))) / 2

    formulas = {
        "cheapest": lambda r: -(prompt * r["input_usd_per_mtok"] + output * r["output_usd_per_mtok"]) / 1e6,
        "fastest": speed,
        "quality": lambda r: r["quality_score"],
        "balanced": lambda r: 2 * r["quality_score"] + r["speed_score"] - 2 * math.log10(blend(r)),
    }
    for strategy, formula in formulas.items():
        # stable sorts, least significant key first: id ascending, quality descending, cost ascending, score descending
        expected = sorted(chat, key=lambda r: r["id"])
        expected.sort(key=lambda r: r["quality_score"], reverse=True)
        expected.sort(key=blend)
        expected.sort(key=formula, reverse=True)
        ranking = rank({r["id"]: r for r in rows}, needs, strategy, view)
        assert ids(ranking) == [r["id"] for r in expected], strategy
        assert ranking.ranked[0].score == pytest.approx(formula(expected[0]))
        assert len(ranking.excluded) == len(rows) - len(chat)
