"""Seed a fresh database for the browser test (run in its own process): one 2-zone meter
with a year of readings, and a cabinet customer. Prints the facts as JSON."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

from pokaznyk_core.domain.readings import Channel
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customers import Registration, register_customer
from pokaznyk_core.services.readings import ReadingSubmission, submit_reading
from pokaznyk_core.settings import Settings
from pokaznyk_core.storage.engine import connect, upgrade
from pokaznyk_core.testing import make_meter_fixture

PHONE = "+380671112233"
PASSWORD = "browser test password"


async def main() -> None:
    settings = Settings.from_env()
    database = await connect(settings.database_url, create=True)
    await upgrade(database)
    context = ServiceContext(settings=settings)
    today = context.today()
    start = date(today.year - 1, today.month, 1)
    meter = await make_meter_fixture(
        context,
        zone_count=2,
        installed_on=start,
        initial={Zone.DAY: Decimal("4210.0"), Zone.NIGHT: Decimal("1830.0")},
        surname="Коваленко",
        phones=(PHONE,),
    )
    day, night = Decimal("4210.0"), Decimal("1830.0")
    month_end = start
    for month in range(11):
        month_end = (month_end.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(
            days=1
        )
        if month in (3, 4, 8):  # months without a reading: estimated
            month_end += timedelta(days=1)
            continue
        day += Decimal(150 + 20 * (month % 4))
        night += Decimal(60 + 5 * (month % 3))
        await submit_reading(
            context,
            ReadingSubmission(
                uuid4(),
                meter.meter_id,
                {Zone.DAY: day, Zone.NIGHT: night},
                Channel.TELEGRAM if month % 2 else Channel.WEB_FORM,
                "seed",
                taken_on=month_end,
            ),
        )
        month_end += timedelta(days=1)
    outcome = await register_customer(
        context,
        user_key="seed",
        account_number=meter.account_number,
        surname=meter.surname,
        phone=PHONE,
        password=PASSWORD,
    )
    assert isinstance(outcome, Registration), outcome
    await database.close()
    facts = {
        "account": meter.account_number,
        "surname": meter.surname,
        "meter_id": meter.meter_id,
        "day": str(day),
        "phone": PHONE,
        "password": PASSWORD,
    }
    print(json.dumps(facts))


if __name__ == "__main__":
    os.environ.setdefault("POKAZNYK_TIMEZONE", "Europe/Kyiv")
    asyncio.run(main())
