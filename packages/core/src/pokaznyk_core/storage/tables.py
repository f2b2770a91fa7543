"""Piccolo tables: every entity of the design, append-only where the design says so.

Reading values are stored as exact integers in the meter's smallest unit (`value_1` …
`value_3` in the meter's zone order), never as floats. Foreign keys to append-only data
restrict deletion instead of cascading.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Account(Table, tablename="account"):
    """A customer account (особовий рахунок)."""

    id = Serial(primary_key=True)
    number = Varchar(length=20, unique=True, index=True)
    surname = Varchar(length=100)
    name = Varchar(length=100)
    patronymic = Varchar(length=100, default="")
    settlement = Varchar(length=100)
    street = Varchar(length=150)
    building = Varchar(length=20)
    apartment = Varchar(length=20, default="")
    status = Varchar(length=10, default="active")
    created_at = Timestamptz()


class AccountPhone(Table, tablename="account_phone"):
    """A phone number on an account, in E.164 (`+380…`); digits are indexed for matching."""

    id = Serial(primary_key=True)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    phone = Varchar(length=20)
    digits = Varchar(length=20, index=True)


class MeteringPoint(Table, tablename="metering_point"):
    """A metering point, identified by its EIC code."""

    id = Serial(primary_key=True)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    eic = Varchar(length=16, unique=True, index=True)
    created_at = Timestamptz()


class Meter(Table, tablename="meter"):
    """A meter installed at a metering point; replaced meters keep their row and history."""

    id = Serial(primary_key=True)
    metering_point = ForeignKey(MeteringPoint, on_delete=OnDelete.restrict, index=True)
    serial = Varchar(length=40, index=True)
    digits = SmallInt()
    decimals = SmallInt()
    zone_count = SmallInt()
    installed_on = Date()
    removed_on = Date(null=True, default=None)
    initial_1 = BigInt(default=0)
    initial_2 = BigInt(null=True, default=None)
    initial_3 = BigInt(null=True, default=None)
    final_1 = BigInt(null=True, default=None)
    final_2 = BigInt(null=True, default=None)
    final_3 = BigInt(null=True, default=None)


class Reading(Table, tablename="reading"):
    """A stored meter reading: never deleted or overwritten; corrections are new rows."""

    id = UUID(primary_key=True)
    receipt = Varchar(length=10, unique=True)
    meter = ForeignKey(Meter, on_delete=OnDelete.restrict)
    """Searched by `reading_meter_taken` (meter, taken_on); see migration 2026-11-30."""
    account = ForeignKey(Account, on_delete=OnDelete.restrict)
    """Searched by `reading_account_received` (account, received_at)."""
    value_1 = BigInt()
    value_2 = BigInt(null=True, default=None)
    value_3 = BigInt(null=True, default=None)
    taken_on = Date()
    received_at = Timestamptz()
    channel = Varchar(length=16, index=True)
    submitted_by = Varchar(length=80)
    status = Varchar(length=20, index=True)
    period = Varchar(length=7, index=True)
    in_window = Boolean()
    flags = Varchar(length=200, default="")
    rollover = Boolean(default=False)
    supersedes = UUID(null=True, default=None)
    consumption_total = BigInt(default=0)


class ReadingEvidence(Table, tablename="reading_evidence"):
    """A photo of the meter attached to a reading, for the reviewer.

    A photo sent in a chat arrives as the platform's reference (`content_type`
    `<channel>/file-ref`, `content` the Telegram file_id or the Viber/Messenger media URL);
    the worker downloads it (`outbox.evidence_fetch`) and replaces the reference with the
    image. The rows still to download are searched by the partial index
    `reading_evidence_to_fetch` (migration 2026-12-01T12:00:01)."""

    id = Serial(primary_key=True)
    reading = ForeignKey(Reading, on_delete=OnDelete.restrict, index=True)
    content_type = Varchar(length=50)
    content = Text()
    source = Varchar(length=200, default="")
    attached_at = Timestamptz()
    fetch_attempts = Integer(default=0)
    """Downloads of a chat photo tried so far."""
    fetch_next_at = Timestamptz(null=True, default=None)
    """When a chat photo's next download is due, or its current lease ends (None: now)."""
    fetch_error = Text(default="")
    """Why the last download of a chat photo failed."""
    fetch_failed_at = Timestamptz(null=True, default=None)
    """When the download was given up; the row keeps the platform's reference."""


class RejectedSubmission(Table, tablename="rejected_submission"):
    """A submission that failed the checks: counted for the statistics, never a reading."""

    id = Serial(primary_key=True)
    channel = Varchar(length=16, index=True)
    reason = Varchar(length=60)
    meter = ForeignKey(Meter, on_delete=OnDelete.restrict, null=True, default=None)
    received_at = Timestamptz(index=True)


class StaffUser(Table, tablename="staff_user"):
    """A member of staff: field inspector, manager or admin."""

    id = Serial(primary_key=True)
    username = Varchar(length=60, unique=True, index=True)
    full_name = Varchar(length=150, default="")
    role = Varchar(length=10)
    password_hash = Varchar(length=200)
    active = Boolean(default=True)
    language = Varchar(length=5, default="uk")
    created_at = Timestamptz()


class Route(Table, tablename="route"):
    """A field inspector's route for one day."""

    id = Serial(primary_key=True)
    staff_user = ForeignKey(StaffUser, on_delete=OnDelete.restrict, index=True)
    day = Date(index=True)
    created_at = Timestamptz()


class RouteStop(Table, tablename="route_stop"):
    """One metering point on a route, in walk order."""

    id = Serial(primary_key=True)
    route = ForeignKey(Route, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    metering_point = ForeignKey(MeteringPoint, on_delete=OnDelete.restrict)
    skip_code = Varchar(length=20, default="")


class MessengerIdentity(Table, tablename="messenger_identity"):
    """A user of a conversational channel (Telegram, Viber, Messenger, web client, phone)."""

    id = Serial(primary_key=True)
    channel = Varchar(length=16)
    platform_user_id = Varchar(length=80)
    language = Varchar(length=5, default="uk")
    display_name = Varchar(length=150, default="")
    phone_digits = Varchar(length=20, default="")
    reminders = Boolean(default=True)
    subscribed = Boolean(default=True)
    created_at = Timestamptz()


class LinkedAccount(Table, tablename="linked_account"):
    """An account a verified messenger user may act on."""

    id = Serial(primary_key=True)
    identity = ForeignKey(MessengerIdentity, on_delete=OnDelete.cascade, index=True)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    method = Varchar(length=20)
    linked_at = Timestamptz()


class VerificationFailure(Table, tablename="verification_failure"):
    """A failed verification attempt, counted per user and per account for the limits."""

    id = Serial(primary_key=True)
    user_key = Varchar(length=120, index=True)
    account_key = Varchar(length=40, default="", index=True)
    failed_at = Timestamptz(index=True)


class DialogState(Table, tablename="dialog_state"):
    """The state of one conversation, so any server process can answer the next message."""

    id = Serial(primary_key=True)
    channel = Varchar(length=16)
    platform_user_id = Varchar(length=80)
    state = JSON(default="{}")
    version = Integer(default=0)
    updated_at = Timestamptz()


class ProcessedUpdate(Table, tablename="processed_update"):
    """A platform update already handled (Telegram update_id, Viber message_token, mid)."""

    id = Serial(primary_key=True)
    channel = Varchar(length=16)
    update_key = Varchar(length=120)
    received_at = Timestamptz()


class OutboxMessage(Table, tablename="outbox_message"):
    """A reply or reminder waiting to go out through a platform's API."""

    id = Serial(primary_key=True)
    channel = Varchar(length=16)
    recipient = Varchar(length=80)
    payload = JSON()
    status = Varchar(length=10, default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    """Searched with the status by `outbox_due` (status, next_attempt_at)."""
    last_error = Text(default="")
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    dedupe_key = Varchar(length=120, null=True, default=None, unique=True)
    claimed_by = Varchar(length=32, null=True, default=None)
    """The token of the sender's lease under which a sender holds the message (its
    `next_attempt_at` is then the claim's end); NULL when no sender holds it."""


class AuditEntry(Table, tablename="audit_entry"):
    """Who changed what, when and from where; append-only."""

    id = Serial(primary_key=True)
    at = Timestamptz(index=True)
    actor = Varchar(length=120)
    action = Varchar(length=60)
    entity = Varchar(length=40)
    entity_id = Varchar(length=60, index=True)
    details = JSON(default="{}")
    source = Varchar(length=120, default="")


class WebSession(Table, tablename="web_session"):
    """A server-side session (staff or customer) kept in our database, not in a process."""

    id = Serial(primary_key=True)
    key = Varchar(length=100, unique=True, index=True)
    data = Text()
    expires_at = Timestamptz(index=True)


class PeriodClose(Table, tablename="period_close"):
    """A billing period that was closed, with when and by whom."""

    id = Serial(primary_key=True)
    period = Varchar(length=7, unique=True)
    closed_at = Timestamptz()
    closed_by = Varchar(length=120)


class BillLine(Table, tablename="bill_line"):
    """What a meter is billed for in a closed period: an actual reading or an estimate."""

    id = Serial(primary_key=True)
    period = Varchar(length=7, index=True)
    meter = ForeignKey(Meter, on_delete=OnDelete.restrict, index=True)
    basis = Varchar(length=10)
    reading = UUID(null=True, default=None)
    consumption_1 = BigInt(default=0)
    consumption_2 = BigInt(null=True, default=None)
    consumption_3 = BigInt(null=True, default=None)
    created_at = Timestamptz()


class Customer(Table, tablename="customer"):
    """A customer's online account (cabinet): signs in with a phone on an account."""

    phone_digits = Varchar(length=20, unique=True, index=True)
    phone = Varchar(length=20)
    password_hash = Varchar(length=200, default="")
    reminders = Varchar(length=10, default="none")
    language = Varchar(length=5, default="uk")
    created_at = Timestamptz()


class CustomerAccount(Table, tablename="customer_account"):
    """An account a cabinet customer has linked (verified with surname and phone)."""

    customer = ForeignKey(Customer, on_delete=OnDelete.cascade, index=True)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    linked_at = Timestamptz()


class SignInLink(Table, tablename="sign_in_link"):
    """A one-time cabinet sign-in link; only a hash of its token is kept."""

    token_hash = Varchar(length=64, unique=True, index=True)
    customer = ForeignKey(Customer, on_delete=OnDelete.cascade, index=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


TABLES: tuple[type[Table], ...] = (
    Account,
    AccountPhone,
    MeteringPoint,
    Meter,
    Reading,
    ReadingEvidence,
    RejectedSubmission,
    StaffUser,
    Route,
    RouteStop,
    MessengerIdentity,
    LinkedAccount,
    VerificationFailure,
    DialogState,
    ProcessedUpdate,
    OutboxMessage,
    AuditEntry,
    WebSession,
    PeriodClose,
    BillLine,
    Customer,
    CustomerAccount,
    SignInLink,
)
