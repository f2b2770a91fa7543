"""Benchmark: chatbot dialog steps through the real Telegram webhook of `pokaznyk serve`.

Many simulated customers each go through verify → submit → confirm (/start, "submit",
account number, surname, one value per zone, confirm) against a running server, on SQLite
and PostgreSQL. Baseline, in the same run and the same way: a bare Litestar endpoint that
does one insert in the same database. Prints steps/s and p50/p99 latency for both and the
ratio. Timings are never asserted anywhere: this machine is shared and noisy.

    uv run python bench/webhook_dialog.py [--users 200] [--concurrency 64] [--engine both]
        [--cpu] [--by-step]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

SECRET = "bench-secret-token"
POSTGRES_SERVER = os.environ.get(
    "POKAZNYK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"
)
ROOT = Path(__file__).resolve().parent.parent

BARE_APP = textwrap.dedent(
    """
    import asyncio, os, uuid
    from datetime import UTC, datetime
    from litestar import Litestar, post
    from pokaznyk_core.storage.engine import open_database
    from pokaznyk_core.storage.tables import ProcessedUpdate
    from pokaznyk_dashboard.app import tune_gc_for_serving
    from pokaznyk_core.storage.transactions import write_transaction

    state = {}

    async def startup() -> None:
        state["db"] = await open_database(os.environ["POKAZNYK_DATABASE_URL"])

    async def shutdown() -> None:
        await state["db"].close()

    @post("/bare", status_code=200)
    async def bare() -> dict[str, bool]:
        async with write_transaction():
            await ProcessedUpdate.insert(
                ProcessedUpdate(channel="bench", update_key=uuid.uuid4().hex,
                                received_at=datetime.now(UTC))
            )
        return {"ok": True}

    app = Litestar([bare], on_startup=[startup], on_shutdown=[shutdown])
    tune_gc_for_serving()  # served the same way as the service's own workers
    """
)


@dataclass
class Customer:
    user_id: int
    account: str
    surname: str
    zone_values: list[str]


def percentile(sorted_seconds: list[float], fraction: float) -> float:
    """The value at `fraction` of the sorted latencies, in milliseconds."""
    return sorted_seconds[min(len(sorted_seconds) - 1, int(len(sorted_seconds) * fraction))] * 1000


@dataclass
class Timings:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    by_step: dict[str, list[float]] = field(default_factory=dict)
    """The latencies of each kind of dialog step (start, menu, account, surname, zone,
    confirm)."""

    def line(self, name: str) -> str:
        lat = sorted(self.latencies)
        if not lat:
            return f"{name}: no successful requests ({self.errors} errors)"
        p50 = percentile(lat, 0.5)
        p99 = percentile(lat, 0.99)
        rate = len(lat) / self.seconds
        return (
            f"{name:<34} {rate:8.0f} steps/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
            f"({len(lat)} steps, {self.errors} errors, mean {statistics.fmean(lat) * 1000:.1f} ms)"
        )

    def step_lines(self) -> list[str]:
        """p50, p90 and p99 of each kind of step: whether the slow tail is some steps' work
        or every step's wait."""
        lines = []
        for kind, seconds in self.by_step.items():
            lat = sorted(seconds)
            lines.append(
                f"    {kind:<8} {len(lat):5} steps   p50 {percentile(lat, 0.5):6.1f} ms   "
                f"p90 {percentile(lat, 0.9):6.1f} ms   p99 {percentile(lat, 0.99):6.1f} ms"
            )
        return lines

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class RawClient:
    """A minimal keep-alive HTTP/1.1 client: each request leaves in one write.

    httpx's async client sends headers and body in separate writes, which on loopback meets
    Nagle's algorithm and delayed ACKs (about 40 ms a request): it measured the client, not
    the server. This one measures the server.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pokaznyk_core.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"pokaznyk {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def customers_from(listing: list[dict[str, Any]], count: int) -> list[Customer]:
    chosen: list[Customer] = []
    for item in listing:
        if item["status"] != "active":
            continue
        meters = [m for p in item["metering_points"] for m in p["meters"]]
        if len(meters) != 1 or meters[0]["last_reading"] is None:
            continue
        meter = meters[0]
        last = meter["last_reading"]["values"]
        step = Decimal(1).scaleb(-meter["decimals"])
        values = []
        for zone in meter["zones"]:
            value = Decimal(last[zone]) + Decimal(40)
            if value >= Decimal(10) ** meter["digits"]:
                break
            values.append(str(value.quantize(step)))
        if len(values) != len(meter["zones"]):
            continue
        chosen.append(Customer(len(chosen) + 1, item["account"], item["holder"]["surname"], values))
        if len(chosen) == count:
            break
    return chosen


_update_ids = itertools.count(1)


def text_update(user: int, text: str) -> dict[str, Any]:
    uid = next(_update_ids)
    sender = {"id": user, "is_bot": False, "first_name": "Bench", "language_code": "uk"}
    message: dict[str, Any] = {
        "message_id": uid,
        "from": sender,
        "chat": {"id": user, "type": "private"},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text), "type": "bot_command"}]
    return {"update_id": uid, "message": message}


def button_update(user: int, payload: str) -> dict[str, Any]:
    uid = next(_update_ids)
    sender = {"id": user, "is_bot": False, "first_name": "Bench", "language_code": "uk"}
    return {
        "update_id": uid,
        "callback_query": {
            "id": str(uid),
            "from": sender,
            "chat_instance": "1",
            "data": payload,
            "message": {"message_id": 1, "chat": {"id": user, "type": "private"}, "date": 0},
        },
    }


def dialog_of(customer: Customer) -> list[tuple[str, dict[str, Any]]]:
    """The customer's updates, each with the kind of step it is."""
    u = customer.user_id + 10_000_000
    return [
        ("start", text_update(u, "/start")),
        ("menu", button_update(u, "menu:submit")),
        ("account", text_update(u, customer.account)),
        ("surname", text_update(u, customer.surname)),
        *(("zone", text_update(u, v)) for v in customer.zone_values),
        ("confirm", button_update(u, "confirm")),
    ]


async def drive(
    port: int, dialogs: list[list[tuple[str, dict[str, Any]]]], concurrency: int
) -> Timings:
    timings = Timings()
    queue: asyncio.Queue[list[tuple[str, dict[str, Any]]]] = asyncio.Queue()
    for d in dialogs:
        queue.put_nowait(d)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def user() -> None:
        client = RawClient(port)
        try:
            while not queue.empty():
                for kind, update in queue.get_nowait():
                    body = json.dumps(update).encode()
                    start = time.perf_counter()
                    status = await client.post("/webhooks/telegram", body, headers)
                    if status == 200:
                        took = time.perf_counter() - start
                        timings.latencies.append(took)
                        timings.by_step.setdefault(kind, []).append(took)
                    else:
                        timings.errors += 1
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    timings.seconds = time.perf_counter() - started
    return timings


async def drive_bare(port: int, requests: int, concurrency: int) -> Timings:
    timings = Timings()
    remaining = itertools.count()

    async def worker() -> None:
        client = RawClient(port)
        try:
            while next(remaining) < requests:
                start = time.perf_counter()
                status = await client.post("/bare", b"{}", {})
                if status == 200:
                    timings.latencies.append(time.perf_counter() - start)
                else:
                    timings.errors += 1
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    timings.seconds = time.perf_counter() - started
    return timings


def start_server(argv: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(
                    process.stderr.read().decode() if process.stderr else "died"
                ) from None
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_by_group(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server (the process and its workers), PostgreSQL's
    processes and this load generator, read from /proc (Linux; empty elsewhere)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    commands: dict[int, str] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICKS

    def under_server(pid: int) -> bool:
        while pid > 1:
            if pid == server_pid:
                return True
            pid = parents.get(pid, 0)
        return False

    groups = {"server": 0.0, "postgres": 0.0, "load generator": 0.0}
    for pid, seconds in times.items():
        if under_server(pid):
            groups["server"] += seconds
        elif commands[pid].startswith("postgres"):
            groups["postgres"] += seconds
        elif pid == os.getpid():
            groups["load generator"] += seconds
    return groups


def cpu_line(before: dict[str, float], after: dict[str, float], steps: int) -> str:
    """CPU milliseconds per step of each group between two `cpu_by_group` readings."""
    if not before or not steps:
        return "    CPU per step: not measured (no /proc)"
    parts = [f"{name} {(after[name] - before[name]) * 1000 / steps:.2f}" for name in before]
    return "    CPU ms per step: " + ", ".join(parts)


async def bench_engine(engine: str, args: argparse.Namespace, workdir: Path) -> None:
    created = None
    if engine == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite'}"
    else:
        try:
            admin = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres", timeout=3)
        except Exception as error:
            print(f"postgres: SKIPPED, no server at {POSTGRES_SERVER} ({error})")
            return
        created = f"pokaznyk_bench_{os.getpid()}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{created}"')
        await admin.execute(f'CREATE DATABASE "{created}"')
        await admin.close()
        url = f"{POSTGRES_SERVER}/{created}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POKAZNYK_")}
    env.update(
        POKAZNYK_DATABASE_URL=url,
        POKAZNYK_TELEGRAM_BOT_TOKEN="123:bench",
        POKAZNYK_TELEGRAM_SECRET_TOKEN=SECRET,
        POKAZNYK_TELEGRAM_API_BASE="http://127.0.0.1:9",
        POKAZNYK_OUTBOX_IN_SERVE="0",
    )
    try:
        run_cli(env, "db", "upgrade")
        warm_users = args.concurrency  # one whole dialog each, outside the measured set
        accounts = max((args.users + warm_users) * 3, 500)
        run_cli(env, "demo-data", "--accounts", str(accounts), "--seed", "11")
        listing = json.loads(run_cli(env, "accounts", "list", "--json"))
        customers = customers_from(listing, args.users + warm_users)
        dialogs = [dialog_of(c) for c in customers]
        warm, measured = dialogs[:warm_users], dialogs[warm_users:]

        port = free_port()
        server = start_server(
            [
                sys.executable,
                "-m",
                "pokaznyk_core.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env,
            port,
        )
        try:
            # Warm-up as a running service is warm: as many whole dialogs at once as will be
            # measured, by customers outside the measured set (connections opened,
            # statements prepared, catalogues loaded).
            await drive(port, warm, args.concurrency)
            cpu_before = cpu_by_group(server.pid) if args.cpu else {}
            dialog = await drive(port, measured, args.concurrency)
            dialog_cpu = cpu_line(cpu_before, cpu_by_group(server.pid), len(dialog.latencies))
        finally:
            stop(server)

        bare_file = workdir / "bare_app.py"
        bare_file.write_text(BARE_APP)
        port = free_port()
        bare = start_server(
            [
                sys.executable,
                "-c",
                "import sys; sys.path.insert(0, sys.argv[1]);"
                "from pokaznyk_dashboard.cli import run_uvicorn;"
                "run_uvicorn('bare_app:app', '127.0.0.1', int(sys.argv[2]), int(sys.argv[3]))",
                str(workdir),
                str(port),
                str(args.workers),
            ],
            env,
            port,
        )
        try:
            await drive_bare(port, sum(len(d) for d in warm), args.concurrency)  # warm-up
            cpu_before = cpu_by_group(bare.pid) if args.cpu else {}
            baseline = await drive_bare(port, len(dialog.latencies) or 1, args.concurrency)
            bare_cpu = cpu_line(cpu_before, cpu_by_group(bare.pid), len(baseline.latencies))
        finally:
            stop(bare)
        print(
            f"--- {engine}: {len(measured)} customers, {args.concurrency} at once, "
            f"{args.workers} server worker(s) ---"
        )
        print(dialog.line("dialog steps (webhook)"))
        if args.by_step:
            print("\n".join(dialog.step_lines()))
        if args.cpu:
            print(dialog_cpu)
        print(baseline.line("baseline: bare insert endpoint"))
        if args.cpu:
            print(bare_cpu)
        if baseline.rate:
            print(f"ratio dialog/baseline: {dialog.rate / baseline.rate:.2f}")
    finally:
        if created:
            admin = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres")
            await admin.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
            await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="also print the CPU time per step of the server, PostgreSQL and this load "
        "generator (read from /proc; PostgreSQL's processes are counted whoever they serve)",
    )
    parser.add_argument(
        "--by-step",
        action="store_true",
        help="also print the latency percentiles of each kind of dialog step",
    )
    args = parser.parse_args()
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            await bench_engine(engine, args, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
