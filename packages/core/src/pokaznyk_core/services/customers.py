"""The customer's online account (cabinet): registration, sign-in, one-time sign-in links,
password changes, linked accounts and reminder preferences.

A customer is known by a phone number that is on one of their accounts. Registering and
linking an account take the account number, the holder's surname and a phone on that
account; the account number and surname go through `verify_holder`, with its limits and
its silence about which part was wrong, and a phone that is not on the account is one
more failure of the same kind. Sign-in failures are limited per client address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pokaznyk_core.domain.accounts import normalize_phone_digits
from pokaznyk_core.domain.outcomes import Code, ParamValue, Problem
from pokaznyk_core.domain.verification import verification_gate
from pokaznyk_core.services.audit import record_audit
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.listings import format_address
from pokaznyk_core.services.registry import normalize_phone
from pokaznyk_core.services.staff import MIN_PASSWORD_LENGTH, hash_password, password_matches
from pokaznyk_core.services.verification import record_failure, verify_holder
from pokaznyk_core.storage.tables import (
    Account,
    AccountPhone,
    Customer,
    CustomerAccount,
    SignInLink,
    VerificationFailure,
)
from pokaznyk_core.storage.transactions import write_transaction

SIGN_IN_LINK_LIFETIME = timedelta(minutes=15)
"""How long a one-time sign-in link works."""

# Checked when no customer has the phone, so a wrong phone takes as long as a wrong password.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$y/SNxPz95QUHAl5Zv/XIWQ$"
    "Qt7OFQ9TpC17UPFfKpkcf2A5WncTD3wgkhzk8VVttDo"
)


@dataclass(frozen=True)
class Refusal:
    """Why a cabinet request was refused: a catalogue key, its parameters and the form
    field it belongs to (None for the whole form)."""

    key: str
    params: dict[str, ParamValue] = field(default_factory=dict)
    field: str | None = None

    @classmethod
    def of(cls, problem: Problem, form_field: str | None = None) -> Refusal:
        """A refusal saying what a core problem says."""
        return cls(problem.code.value, dict(problem.params), form_field or problem.field)


@dataclass(frozen=True)
class Registration:
    """A new customer, and a one-time sign-in token when no password was set."""

    customer_id: int
    sign_in_token: str | None = None


@dataclass(frozen=True)
class AccountSummary:
    """An account a customer has linked."""

    account_id: int
    number: str
    address: str
    active: bool


async def audit_customer(
    now: datetime,
    customer_id: int,
    action: str,
    details: dict[str, Any] | None = None,
    source: str = "",
) -> None:
    """Append an audit entry about a customer (inside the caller's transaction)."""
    await record_audit(
        at=now,
        actor=f"customer:{customer_id}",
        action=action,
        entity="customer",
        entity_id=str(customer_id),
        details=details,
        source=source,
    )


def password_refusal(password: str, form_field: str = "password") -> Refusal | None:
    """Why a new password cannot be used (too short), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Refusal("cabinet.password_too_short", {"min": MIN_PASSWORD_LENGTH}, form_field)
    return None


async def _verify_with_phone(
    context: ServiceContext,
    *,
    user_key: str,
    account_number: str,
    surname: str,
    phone: str,
    linked: frozenset[int] = frozenset(),
) -> tuple[int, str] | Refusal:
    """The account id and the phone in E.164 when all three match, else a refusal that
    never says which part was wrong."""
    normalized = normalize_phone(phone)
    if isinstance(normalized, Problem):
        return Refusal.of(normalized, "phone")
    # One transaction: the limits' locks, taken by `verify_holder`, hold until a wrong
    # phone's failure is written too, so a burst of guesses cannot pass a limit.
    async with write_transaction():
        outcome = await verify_holder(
            context,
            user_key=user_key,
            account_or_eic=account_number,
            surname=surname,
            already_linked_account_ids=linked,
        )
        if outcome.verified and outcome.account_id is not None:
            digits = normalize_phone_digits(normalized)
            on_account = await AccountPhone.exists().where(
                (AccountPhone.account == outcome.account_id) & (AccountPhone.digits == digits)
            )
            if on_account:
                return outcome.account_id, normalized
            # A phone not on the account is answered exactly like a wrong surname.
            outcome = await record_failure(
                context, user_key=user_key, account_key=outcome.account_number or ""
            )
    problem = outcome.problem or Problem(Code.VERIFICATION_FAILED)
    params = dict(problem.params)
    if outcome.attempts_left and problem.code is Code.VERIFICATION_FAILED:
        params["attempts_left"] = outcome.attempts_left
    return Refusal(problem.code.value, params)


async def register_customer(
    context: ServiceContext,
    *,
    user_key: str,
    account_number: str,
    surname: str,
    phone: str,
    password: str,
) -> Registration | Refusal:
    """Open a cabinet for the holder of an account, known by a phone on that account.

    Without a password (demo mode only) the customer signs in by a one-time link.
    """
    if password or not context.settings.demo:
        refusal = password_refusal(password)
        if refusal is not None:
            return refusal
    verified = await _verify_with_phone(
        context, user_key=user_key, account_number=account_number, surname=surname, phone=phone
    )
    if isinstance(verified, Refusal):
        return verified
    account_id, e164 = verified
    password_hash = await hash_password(password) if password else ""
    now = context.now()
    digits = normalize_phone_digits(e164)
    async with write_transaction():
        if await Customer.exists().where(Customer.phone_digits == digits):
            return Refusal("cabinet.already_registered", {}, "phone")
        rows = await Customer.insert(
            Customer(
                phone_digits=digits,
                phone=e164,
                password_hash=password_hash,
                reminders="none",
                created_at=now,
            )
        )
        customer_id = int(rows[0]["id"])
        await CustomerAccount.insert(
            CustomerAccount(customer=customer_id, account=account_id, linked_at=now)
        )
        await audit_customer(
            now,
            customer_id,
            "customer.registered",
            details={"account_id": account_id},
            source=user_key,
        )
    token = None if password else await issue_sign_in_link(context, e164)
    return Registration(customer_id=customer_id, sign_in_token=token)


async def sign_in(
    context: ServiceContext, *, user_key: str, phone: str, password: str
) -> int | Refusal:
    """The customer id when the phone and password match; failures are limited per
    client (``user_key``) the way verification failures are."""
    now = context.now()
    limits = context.verification
    key = f"signin:{user_key}"[:120]
    failures = await VerificationFailure.select(VerificationFailure.failed_at).where(
        (VerificationFailure.user_key == key)
        & (VerificationFailure.failed_at >= now - limits.user_window - limits.user_cooldown)
    )
    gate = verification_gate([r["failed_at"] for r in failures], [], now, limits)
    if not gate.allowed:
        problem = gate.problem or Problem(Code.VERIFICATION_COOLDOWN, {"minutes": 60})
        return Refusal.of(problem)
    digits = normalize_phone_digits(phone)
    customer = (
        await Customer.select().where(Customer.phone_digits == digits).first() if digits else None
    )
    stored_hash = (
        customer["password_hash"] if customer and customer["password_hash"] else _DUMMY_HASH
    )
    if customer is not None and await password_matches(stored_hash, password):
        return int(customer["id"])
    if customer is None:
        await password_matches(stored_hash, password)
    async with write_transaction():
        await VerificationFailure.insert(
            VerificationFailure(user_key=key, account_key="", failed_at=now)
        )
    left = max(0, (gate.attempts_left or 0) - 1)
    return Refusal("cabinet.sign_in_failed", {"attempts_left": left})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_sign_in_link(context: ServiceContext, phone: str) -> str | None:
    """A one-time sign-in token for the customer with this phone, or None when nobody
    registered it (the caller answers the same either way)."""
    digits = normalize_phone_digits(phone)
    customer = await Customer.select(Customer.id).where(Customer.phone_digits == digits).first()
    if not digits or customer is None:
        return None
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        await SignInLink.insert(
            SignInLink(
                token_hash=_token_hash(token),
                customer=customer["id"],
                expires_at=context.now() + SIGN_IN_LINK_LIFETIME,
            )
        )
    return token


async def redeem_sign_in_link(context: ServiceContext, token: str) -> int | None:
    """The customer id for an unused, unexpired token, marking it used; else None."""
    now = context.now()
    async with write_transaction():
        link = await SignInLink.select().where(SignInLink.token_hash == _token_hash(token)).first()
        if link is None or link["used_at"] is not None or link["expires_at"] <= now:
            return None
        updated = await (
            SignInLink.update({SignInLink.used_at: now})
            .where((SignInLink.id == link["id"]) & SignInLink.used_at.is_null())
            .returning(SignInLink.id)
        )
        return int(link["customer"]) if updated else None


def _summary(row: dict[str, Any]) -> AccountSummary:
    return AccountSummary(
        account_id=row["id"],
        number=row["number"],
        address=format_address(row),
        active=row["status"] == "active",
    )


async def customer_accounts(customer_id: int) -> list[AccountSummary]:
    """The accounts the customer has linked, by number."""
    links = await CustomerAccount.select(CustomerAccount.account).where(
        CustomerAccount.customer == customer_id
    )
    ids = [link["account"] for link in links]
    if not ids:
        return []
    rows = await Account.select().where(Account.id.is_in(ids)).order_by(Account.number)
    return [_summary(row) for row in rows]


async def owned_account(customer_id: int, number: str) -> AccountSummary | None:
    """The account with this number when the customer linked it; None otherwise, so
    another customer's account and an unknown one look the same."""
    account = await Account.select().where(Account.number == number.strip()).first()
    if account is None:
        return None
    linked = await CustomerAccount.exists().where(
        (CustomerAccount.customer == customer_id) & (CustomerAccount.account == account["id"])
    )
    return _summary(account) if linked else None


async def link_account(
    context: ServiceContext,
    customer_id: int,
    *,
    user_key: str,
    account_number: str,
    surname: str,
    phone: str,
) -> AccountSummary | Refusal:
    """Link one more account, verified by its number, holder's surname and a phone on it."""
    linked = frozenset(a.account_id for a in await customer_accounts(customer_id))
    verified = await _verify_with_phone(
        context,
        user_key=user_key,
        account_number=account_number,
        surname=surname,
        phone=phone,
        linked=linked,
    )
    if isinstance(verified, Refusal):
        return verified
    account_id, _ = verified
    now = context.now()
    async with write_transaction():
        exists = await CustomerAccount.exists().where(
            (CustomerAccount.customer == customer_id) & (CustomerAccount.account == account_id)
        )
        if not exists:
            await CustomerAccount.insert(
                CustomerAccount(customer=customer_id, account=account_id, linked_at=now)
            )
            await record_audit(
                at=now,
                actor=f"customer:{customer_id}",
                action="customer.account_linked",
                entity="customer",
                entity_id=str(customer_id),
                details={"account_id": account_id},
                source=user_key,
            )
    row = await Account.select().where(Account.id == account_id).first()
    assert row is not None
    return _summary(row)
