"""The cabinet customer's own settings: password, reminder preferences, profile."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.customers import Refusal, audit_customer, password_refusal
from pokaznyk_core.services.staff import hash_password, password_matches
from pokaznyk_core.storage.tables import Customer, MessengerIdentity
from pokaznyk_core.storage.transactions import write_transaction


class Reminders(StrEnum):
    """How a customer wants to be reminded that the window opens."""

    TELEGRAM = "telegram"
    VIBER = "viber"
    NONE = "none"


@dataclass(frozen=True)
class CustomerProfile:
    """What the cabinet shows about the customer themself."""

    customer_id: int
    phone: str
    reminders: Reminders
    has_password: bool


async def change_password(
    context: ServiceContext, customer_id: int, *, current: str, new: str
) -> Refusal | None:
    """Set a new password; the current one is required when one is set."""
    customer = await Customer.select().where(Customer.id == customer_id).first()
    if customer is None:
        return Refusal("cabinet.sign_in_required")
    if customer["password_hash"] and not await password_matches(customer["password_hash"], current):
        return Refusal("cabinet.current_password_wrong", {}, "current")
    refusal = password_refusal(new, "new")
    if refusal is not None:
        return refusal
    password_hash = await hash_password(new)
    now = context.now()
    async with write_transaction():
        await Customer.update({Customer.password_hash: password_hash}).where(
            Customer.id == customer_id
        )
        await audit_customer(now, customer_id, "customer.password_changed")
    return None


async def customer_profile(customer_id: int) -> CustomerProfile | None:
    """The customer's phone and preferences, or None when there is no such customer."""
    row = await Customer.select().where(Customer.id == customer_id).first()
    if row is None:
        return None
    try:
        reminders = Reminders(row["reminders"])
    except ValueError:
        reminders = Reminders.NONE
    return CustomerProfile(
        customer_id=row["id"],
        phone=row["phone"],
        reminders=reminders,
        has_password=bool(row["password_hash"]),
    )


async def set_reminders(context: ServiceContext, customer_id: int, choice: str) -> Refusal | None:
    """Choose how the customer is reminded that the window opens: Telegram, Viber or not."""
    try:
        reminders = Reminders(choice)
    except ValueError:
        return Refusal("cabinet.reminders_unknown", {}, "reminders")
    now = context.now()
    async with write_transaction():
        await Customer.update({Customer.reminders: reminders.value}).where(
            Customer.id == customer_id
        )
        customer = (
            await Customer.select(Customer.phone_digits).where(Customer.id == customer_id).first()
        )
        if customer is not None and customer["phone_digits"]:
            # The same person in the chats (they shared this phone with the bot): reminders
            # go by the chosen messenger only, or by none.
            for channel in (Reminders.TELEGRAM, Reminders.VIBER):
                await MessengerIdentity.update(
                    {MessengerIdentity.reminders: channel is reminders}
                ).where(
                    (MessengerIdentity.phone_digits == customer["phone_digits"])
                    & (MessengerIdentity.channel == channel.value)
                )
        await audit_customer(
            now, customer_id, "customer.reminders_set", details={"reminders": reminders.value}
        )
    return None
