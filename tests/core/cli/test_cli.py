"""The `pokaznyk` command line as scripts and support staff use it, on both engines."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.conftest import create_postgres_database, drop_postgres_database, postgres_server

from pokaznyk_core.domain.window import window_state
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.sender_lease import SenderLease
from pokaznyk_core.testing_platforms import FakeTelegram

DEMO_ACCOUNTS = 60


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A URL of a database that does not exist yet (SQLite) or is empty (PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('cli') / 'pokaznyk.sqlite'}"
        return
    server = await postgres_server()
    if server is None:
        pytest.skip("PostgreSQL server not available")
    url = await create_postgres_database(server)
    try:
        yield url
    finally:
        await drop_postgres_database(url)


def pokaznyk(
    url: str, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POKAZNYK_")}
    environment |= (env or {}) | {"POKAZNYK_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "pokaznyk_core.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_command_on_a_database_that_was_never_upgraded_says_what_to_do(
    database_url: str,
) -> None:
    result = pokaznyk(database_url, "accounts", "list")
    assert result.returncode == 1
    assert "pokaznyk db upgrade" in one_error_line(result)


def test_db_upgrade_applies_the_migrations_once(database_url: str) -> None:
    first = pokaznyk(database_url, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout
    again = pokaznyk(database_url, "db", "upgrade")
    assert again.returncode == 0 and "up to date" in again.stdout


def test_demo_data_fills_an_empty_database_once(database_url: str) -> None:
    result = pokaznyk(database_url, "demo-data", "--accounts", str(DEMO_ACCOUNTS), "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert f"{DEMO_ACCOUNTS} accounts" in result.stdout
    twice = pokaznyk(database_url, "demo-data", "--accounts", "5")
    assert twice.returncode == 1
    assert "already has data" in one_error_line(twice)


def test_accounts_list_json_has_the_documented_shape(database_url: str) -> None:
    result = pokaznyk(database_url, "accounts", "list", "--json")
    assert result.returncode == 0, result.stderr
    accounts = json.loads(result.stdout)
    assert len(accounts) == DEMO_ACCOUNTS
    numbers = [a["account"] for a in accounts]
    assert numbers == sorted(numbers)
    for account in accounts:
        assert set(account) == {
            "account",
            "holder",
            "address",
            "phones",
            "status",
            "metering_points",
        }
        assert re.fullmatch(r"\d{10}", account["account"])
        assert set(account["holder"]) == {"surname", "name"}
        assert account["status"] in {"active", "closed"}
        assert all(re.fullmatch(r"\+380\d{9}", p) for p in account["phones"])
        for point in account["metering_points"]:
            assert set(point) == {"eic", "meters"} and point["eic"].startswith("62Z")
            for meter in point["meters"]:
                assert set(meter) == {"serial", "digits", "decimals", "zones", "last_reading"}
                assert meter["zones"] in (
                    ["total"],
                    ["day", "night"],
                    ["peak", "half_peak", "night"],
                )
                last = meter["last_reading"]
                if last is not None:
                    assert set(last) == {"taken_on", "values"}
                    assert set(last["values"]) == set(meter["zones"])
                    for value in last["values"].values():
                        assert re.fullmatch(rf"\d+(\.\d{{{meter['decimals']}}})?", value)


def test_accounts_list_limit_takes_the_first_accounts(database_url: str) -> None:
    everything = json.loads(pokaznyk(database_url, "accounts", "list", "--json").stdout)
    limited = pokaznyk(database_url, "accounts", "list", "--limit", "7", "--json")
    assert [a["account"] for a in json.loads(limited.stdout)] == [
        a["account"] for a in everything[:7]
    ]
    text = pokaznyk(database_url, "accounts", "list", "--limit", "3")
    assert text.returncode == 0 and len(text.stdout.strip().splitlines()) == 3


def test_readings_list_json_is_oldest_first_in_the_documented_shape(database_url: str) -> None:
    accounts = json.loads(pokaznyk(database_url, "accounts", "list", "--json").stdout)
    number = next(a["account"] for a in accounts if a["status"] == "active")
    result = pokaznyk(database_url, "readings", "list", "--account", number, "--json")
    assert result.returncode == 0, result.stderr
    readings = json.loads(result.stdout)
    assert readings, "an active demo account has readings"
    keys = {
        "id",
        "receipt",
        "eic",
        "meter",
        "values",
        "taken_on",
        "received_at",
        "channel",
        "status",
        "in_window",
        "period",
        "rollover",
    }
    for reading in readings:
        assert set(reading) == keys
        assert reading["status"] in {"accepted", "flagged", "rejected_on_review", "superseded"}
        assert re.fullmatch(r"\d{4}-\d{2}", reading["period"])
        assert re.fullmatch(r".+[+-]\d{2}:\d{2}$", reading["received_at"])
        assert len(reading["receipt"]) <= 10
    dates = [r["taken_on"] for r in readings]
    assert dates == sorted(dates)


def test_readings_list_of_an_unknown_account_is_one_line_and_exit_1(database_url: str) -> None:
    result = pokaznyk(database_url, "readings", "list", "--account", "0000000000")
    assert result.returncode == 1
    assert "0000000000" in one_error_line(result)
    malformed = pokaznyk(database_url, "readings", "list", "--account", "12ab")
    assert malformed.returncode == 1
    assert "10 digits" in one_error_line(malformed)


def test_wrong_usage_exits_2(database_url: str) -> None:
    assert pokaznyk(database_url, "readings", "list").returncode == 2
    assert pokaznyk(database_url, "accounts", "list", "--limit", "zero").returncode == 2
    assert pokaznyk(database_url, "no-such-command").returncode == 2


def test_create_user_hashes_the_password_and_refuses_a_second_one(database_url: str) -> None:
    result = pokaznyk(
        database_url,
        "create-user",
        "--username",
        "Inspector.K",
        "--role",
        "field",
        "--password-stdin",
        stdin="a long enough secret\n",
    )
    assert result.returncode == 0, result.stderr
    assert "inspector.k" in result.stdout and "secret" not in result.stdout
    again = pokaznyk(
        database_url,
        "create-user",
        "--username",
        "inspector.k",
        "--role",
        "admin",
        "--password",
        "another long secret",
    )
    assert again.returncode == 1 and "already exists" in one_error_line(again)
    short = pokaznyk(
        database_url,
        "create-user",
        "--username",
        "x2",
        "--role",
        "admin",
        "--password",
        "short",
    )
    assert short.returncode == 1 and "at least" in one_error_line(short)


def test_a_bad_database_url_is_one_line(tmp_path: Path) -> None:
    result = pokaznyk("mysql://nowhere/db", "accounts", "list")
    assert result.returncode == 1
    assert "POKAZNYK_DATABASE_URL" in one_error_line(result)
    missing = pokaznyk(f"sqlite:///{tmp_path / 'nope.sqlite'}", "accounts", "list")
    assert missing.returncode == 1 and "does not exist" in one_error_line(missing)


@pytest.mark.parametrize(
    ("command", "env", "said"),
    [
        (
            "remind",
            {"POKAZNYK_WINDOW_DAYS_BEFORE_MONTH_END": "40"},
            "POKAZNYK_WINDOW_DAYS_BEFORE_MONTH_END must be between 0 and 28",
        ),
        (
            "worker",
            {"POKAZNYK_WINDOW_DAYS_AFTER_MONTH_START": "-1"},
            "POKAZNYK_WINDOW_DAYS_AFTER_MONTH_START must be between 0 and 28",
        ),
        (
            "serve",
            {
                "POKAZNYK_WINDOW_DAYS_BEFORE_MONTH_END": "20",
                "POKAZNYK_WINDOW_DAYS_AFTER_MONTH_START": "9",
            },
            "must add up to between 1 and 28",
        ),
    ],
)
def test_a_submission_window_out_of_range_stops_every_command_at_once_in_one_line(
    database_url: str, command: str, env: dict[str, str], said: str
) -> None:
    assert pokaznyk(database_url, "db", "upgrade").returncode == 0
    result = pokaznyk(database_url, command, env=env)
    assert result.returncode == 1
    assert said in one_error_line(result)


def test_close_period_refuses_a_malformed_or_open_period(database_url: str) -> None:
    malformed = pokaznyk(database_url, "close-period", "2026-13")
    assert malformed.returncode == 1 and "YYYY-MM" in one_error_line(malformed)
    future = pokaznyk(database_url, "close-period", "2099-01")
    assert future.returncode == 1 and "window" in one_error_line(future)


def test_close_period_bills_every_meter_once(database_url: str) -> None:
    result = pokaznyk(database_url, "close-period", "2025-06")
    assert result.returncode == 0, result.stderr
    assert "closed 2025-06" in result.stdout
    again = pokaznyk(database_url, "close-period", "2025-06")
    assert again.returncode == 1 and "already closed" in one_error_line(again)


def test_import_readings_reports_rejected_rows_and_exits_1(
    database_url: str, tmp_path: Path
) -> None:
    accounts = json.loads(pokaznyk(database_url, "accounts", "list", "--json").stdout)
    point = next(
        p
        for a in accounts
        if a["status"] == "active"
        for p in a["metering_points"]
        if p["meters"] and p["meters"][0]["zones"] == ["total"]
    )
    csv_file = tmp_path / "readings.csv"
    csv_file.write_text(f"eic,taken_on,total\n{point['eic']},2020-01-01,1\n", encoding="utf-8")
    result = pokaznyk(database_url, "import-readings", str(csv_file))
    assert result.returncode == 1
    assert "row 2:" in result.stdout and "rejected 1" in result.stdout
    missing = pokaznyk(database_url, "import-readings", str(tmp_path / "none.csv"))
    assert missing.returncode == 1 and "does not exist" in one_error_line(missing)


def test_remind_queues_this_windows_reminders_or_says_when_the_window_opens(
    database_url: str,
) -> None:
    assert pokaznyk(database_url, "db", "upgrade").returncode == 0
    context = ServiceContext(settings=Settings(database_url=database_url))
    state = window_state(context.today(), context.window)

    result = pokaznyk(database_url, "remind")

    assert result.returncode == 0, result.stderr
    if state.is_open:
        assert re.fullmatch(rf"queued \d+ reminder\(s\) for {state.period}\n", result.stdout)
    else:
        opens = state.opens_on.isoformat()
        assert result.stdout == f"the submission window is closed; it opens on {opens}\n"


def test_worker_runs_until_sigterm_and_stops_cleanly(database_url: str) -> None:
    assert pokaznyk(database_url, "db", "upgrade").returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("POKAZNYK_")}
    env["POKAZNYK_DATABASE_URL"] = database_url
    worker = subprocess.Popen(
        [sys.executable, "-m", "pokaznyk_core.cli", "worker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert worker.stdout is not None
        assert "outbox worker running" in worker.stdout.readline()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        worker.kill()
        _out, err = worker.communicate()
    assert "Traceback" not in err


def test_serve_stops_cleanly_on_sigterm_with_exit_status_0(database_url: str) -> None:
    assert pokaznyk(database_url, "db", "upgrade").returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("POKAZNYK_")}
    env |= {"POKAZNYK_DATABASE_URL": database_url, "POKAZNYK_SECRET_KEY": "cli-test"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "pokaznyk_core.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        server.kill()
        _out, err = server.communicate()
    assert "Traceback" not in err


async def test_telegram_poll_once_sends_only_when_no_other_process_holds_the_senders_lease(
    database_url: str,
) -> None:
    assert pokaznyk(database_url, "db", "upgrade").returncode == 0
    env = {
        "POKAZNYK_TELEGRAM_BOT_TOKEN": FakeTelegram.token,
        "POKAZNYK_TELEGRAM_SECRET_TOKEN": "cli-secret",
    }
    start = {
        "update_id": 7001,
        "message": {
            "message_id": 1,
            "from": {"id": 4701, "is_bot": False, "first_name": "Olena", "language_code": "uk"},
            "chat": {"id": 4701, "type": "private"},
            "date": 1764547200,
            "text": "/start",
        },
    }
    sender = SenderLease(database_url)  # a running worker elsewhere sends
    fake = FakeTelegram(updates=[start])
    with fake.running_in_thread():
        env["POKAZNYK_TELEGRAM_API_BASE"] = fake.url
        try:
            assert await sender.held()
            polled = await asyncio.to_thread(
                pokaznyk, database_url, "telegram", "poll", "--once", env=env
            )
            assert polled.returncode == 0, polled.stderr
            assert polled.stdout == "handled 1 update(s)\n"
            assert fake.sent_messages() == []  # left to the lease's holder
        finally:
            await sender.release()

        again = await asyncio.to_thread(
            pokaznyk, database_url, "telegram", "poll", "--once", env=env
        )
        assert again.returncode == 0, again.stderr
        [greeting] = fake.sent_messages()  # the update was handled once, its reply sent once
        assert greeting["chat_id"] == 4701
