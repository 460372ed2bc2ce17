"""Provider emulator: a real HTTP server on loopback speaking providers' wire formats, with latency and
fault knobs, for tests, the benchmark and the local demo. See `knobs.py` for the per-request knobs and
`openai_wire.py` for the deterministic OpenAI answers."""

from scripts.emulator.knobs import FAULTS, KnobError, Knobs, parse_knobs
from scripts.emulator.runner import EmulatorThread, RunningEmulator, running_emulator
from scripts.emulator.server import EmulatorConfig, EmulatorState, create_app

__all__ = [
    "FAULTS",
    "EmulatorConfig",
    "EmulatorState",
    "EmulatorThread",
    "KnobError",
    "Knobs",
    "RunningEmulator",
    "create_app",
    "parse_knobs",
    "running_emulator",
]
