"""End to end in a real browser: Debian's Chromium, headless, driven by Playwright against
a real uvicorn server on a fresh SQLite database. Screenshots of the main pages go to
artifacts/screenshots/.

CI installs the browser with `apt-get install -y chromium`; Playwright never downloads one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """A real server on a free port with a fresh, seeded SQLite database."""
    database = tmp_path_factory.mktemp("browser") / "pokaznyk.sqlite"
    env = {
        **os.environ,
        "POKAZNYK_DATABASE_URL": f"sqlite:///{database}",
        "POKAZNYK_SECRET_KEY": "browser-test-secret-key-0123456789",
    }
    cli = shutil.which("pokaznyk", path=str(Path(sys.executable).parent)) or "pokaznyk"
    subprocess.run([cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("seed.py"))],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    facts = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = database.with_name("server.log")
    log_file = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "pokaznyk_dashboard.app:create_app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text()}")
            time.sleep(0.1)
        yield base, facts
    finally:
        process.terminate()
        process.wait(timeout=10)
        log_file.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_a_customer_fills_the_form_sees_an_instant_error_corrects_it_and_gets_a_receipt(
    server: tuple[str, dict[str, Any]], browser: Any
) -> None:
    base, facts = server
    page = await browser.new_page(viewport={"width": 1100, "height": 900})
    await page.goto(f"{base}/submit")
    await shot(page, "01-submit-start")
    await page.get_by_label("Номер особового рахунку або EIC-код").fill(facts["account"])
    await page.get_by_label("Прізвище власника рахунку").fill(facts["surname"])
    await page.get_by_role("button", name="Далі").click()
    day = page.locator(f"#m{facts['meter_id']}_day")
    await day.wait_for()
    await shot(page, "02-submit-readings")
    await day.press_sequentially("12", delay=40)  # far below the last reading
    error = page.locator(f"#err-m{facts['meter_id']}_day")
    await error.filter(has_text="менший за попередній").wait_for(timeout=5000)
    assert await day.get_attribute("aria-invalid") == "true"
    await shot(page, "03-submit-instant-error")
    corrected = str(int(float(facts["day"])) + 120)
    await day.fill("")
    await day.press_sequentially(corrected, delay=20)
    await error.filter(has_text="").wait_for()
    await page.wait_for_function(
        "id => document.getElementById(id).textContent.trim() === ''",
        arg=f"err-m{facts['meter_id']}_day",
    )
    assert await day.get_attribute("aria-invalid") is None
    await page.get_by_label("Споживання не було — повторити останній показник").check()
    await page.get_by_label("Споживання не було — повторити останній показник").uncheck()
    await day.fill(corrected)
    night = page.locator(f"#m{facts['meter_id']}_night")
    await night.fill(await night.get_attribute("data-last") or "")
    await page.get_by_role("button", name="Перевірити й підтвердити").click()
    await page.get_by_role("heading", name="Крок 3 з 3. Підтвердіть показники").wait_for()
    await shot(page, "04-submit-confirm")
    await page.get_by_role("button", name="Підтвердити й передати").click()
    receipt = page.locator(".receipt-number strong")
    await receipt.wait_for()
    code = (await receipt.text_content() or "").strip()
    assert len(code) == 9
    await shot(page, "05-submit-receipt")
    await page.emulate_media(media="print")
    await shot(page, "06-submit-receipt-print")
    await page.close()


async def test_the_form_on_a_phone_in_english(
    server: tuple[str, dict[str, Any]], browser: Any
) -> None:
    base, facts = server
    page = await browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    await page.goto(f"{base}/submit?lang=en")
    await page.get_by_label("Account number or EIC code").fill(facts["account"])
    await page.get_by_label("Account holder's surname").fill("Wrong")
    await page.keyboard.press("Enter")
    await page.locator("#verify-error").wait_for()
    await shot(page, "07-phone-verify-error-en")
    await page.get_by_label("Account holder's surname").fill(facts["surname"])
    await page.keyboard.press("Enter")
    await page.locator(f"#m{facts['meter_id']}_day").wait_for()
    await shot(page, "08-phone-readings-en")
    await page.close()


async def test_the_cabinet_shows_the_history_and_the_consumption_chart(
    server: tuple[str, dict[str, Any]], browser: Any
) -> None:
    base, facts = server
    page = await browser.new_page(viewport={"width": 1100, "height": 900})
    await page.goto(f"{base}/cabinet")
    await shot(page, "09-cabinet-sign-in")
    await page.get_by_label("Номер телефону").fill(facts["phone"])
    await page.get_by_label("Пароль").fill(facts["password"])
    await page.get_by_role("button", name="Увійти").click()
    await page.get_by_role("heading", name="Особистий кабінет").wait_for()
    await shot(page, "10-cabinet-home")
    await page.get_by_role("link", name=facts["account"]).click()
    await page.locator("figure.chart svg").first.wait_for()
    await shot(page, "11-cabinet-account")
    await page.goto(f"{base}/cabinet/register")
    await shot(page, "12-cabinet-register")
    await page.close()
