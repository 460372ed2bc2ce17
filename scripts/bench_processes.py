"""The benchmark's processes and meters: starting the emulator and the gateway as subprocesses
(cleaned up even if the benchmark dies), and reading CPU and memory from /proc."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


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


def stop_process(proc: subprocess.Popen | None, first: int = signal.SIGINT) -> None:
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


def log_tail(path: Path, lines: int = 15) -> str:
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
    stop_process(proc)
    raise RuntimeError(f"the emulator did not start ({line!r}):\n{log_tail(log)}")


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
            raise RuntimeError(f"the gateway exited with {proc.returncode}:\n{log_tail(log)}")
        try:
            async with session.get(base_url + "/health") as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the gateway did not become healthy in 30 s:\n{log_tail(log)}")


# A key with a daily limit it never reaches: every request pays the limiter's counter write, none is
# refused (a key without a tier would be on `free`, 10 requests a day).
BENCH_KEY = {"name": "bench", "tier_id": "business", "requests_per_day": 1_000_000_000}


async def create_gateway_key(session: aiohttp.ClientSession, base_url: str, admin_key: str) -> str:
    async with session.post(
        base_url + "/admin/keys", json=BENCH_KEY, headers={"Authorization": f"Bearer {admin_key}"}
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
