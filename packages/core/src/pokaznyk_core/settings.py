"""Settings of a Pokaznyk deployment, read once from `POKAZNYK_*` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from pokaznyk_core.domain.window import LONGEST_WINDOW_DAYS

DEFAULT_DATABASE_URL = "sqlite:///pokaznyk.sqlite"


class SettingsError(ValueError):
    """A setting has a value the service cannot use."""


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SettingsError(
            f"POKAZNYK_{name.upper()} must be a whole number, not {value!r}"
        ) from None


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything a process of the service needs to know about its deployment."""

    database_url: str = DEFAULT_DATABASE_URL
    """`sqlite:///path` (the embedded default) or `postgresql://user@host/db`."""

    timezone: str = "Europe/Kyiv"
    """The company's time zone: windows and reading dates are in it."""

    account_number_length: int = 10
    """Digits in a customer account number (fixed per company)."""

    window_days_before_month_end: int = 2
    """The submission window opens this many days before a month ends."""

    window_days_after_month_start: int = 3
    """... and stays open this many days into the next month."""

    secret_key: str = ""
    """Signs sessions and CSRF tokens; an empty key gets a random one per process (demo only)."""

    public_url: str = ""
    """The address the platforms call (for signatures and set-webhook)."""

    telegram_bot_token: str = ""
    """Bot API token; empty disables Telegram."""

    telegram_secret_token: str = ""
    """Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token; empty disables the webhook."""

    telegram_api_base: str = "https://api.telegram.org"
    """Bot API base without /bot<token>."""

    viber_auth_token: str = ""
    """Viber bot token; signs callbacks; empty disables Viber."""

    viber_api_base: str = "https://chatapi.viber.com/pa"
    """Viber REST API base with its path."""

    viber_sender_name: str = "Показник"
    """Sender name shown in Viber (at most 28 characters)."""

    messenger_app_secret: str = ""
    """Signs Messenger callbacks (X-Hub-Signature-256); empty disables Messenger."""

    messenger_verify_token: str = ""
    """Token Meta sends with the webhook verification challenge."""

    messenger_page_token: str = ""
    """Page access token for the Send API."""

    graph_api_base: str = "https://graph.facebook.com"
    """Graph API base without the version."""

    graph_api_version: str = "v21.0"
    """Graph API version used for the Send API."""

    twilio_auth_token: str = ""
    """Checks X-Twilio-Signature on the phone line."""

    ivr_allow_unsigned: bool = False
    """Accept unsigned IVR requests (a PBX on a private network only)."""

    messages_at_once: int = 10
    """How many customer messages a server process handles at once; the others wait their
    turn in the order they arrived (`services.admission`). As many as a process has
    PostgreSQL connections: a message uses one at a time."""

    statement_timeout_seconds: int = 10
    """How long a server process (`serve`) lets one statement run or wait before it gives
    up (on PostgreSQL for a lock or a lost connection, on SQLite for another process's
    writer): the platform is answered 429 and delivers the message again. Under the
    platforms' own patience (Twilio waits 15 s for an answer). 0: no limit on PostgreSQL,
    SQLite's 30 s. Commands (close-period, imports, `worker`) have none (30 s on SQLite)."""

    demo: bool = False
    """Demo mode: one-time sign-in links are printed to the log."""

    extra: Mapping[str, str] = field(default_factory=dict)
    """Any other POKAZNYK_* variables, for plug-ins."""

    @cached_property
    def zone(self) -> ZoneInfo:
        """The company's time zone as a tzinfo."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `POKAZNYK_*` variables (the process environment by default)."""
        env = os.environ if environ is None else environ
        known = {f.name: f for f in fields(cls) if f.name != "extra"}
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for key, raw in env.items():
            if not key.startswith("POKAZNYK_"):
                continue
            name = key.removeprefix("POKAZNYK_").lower()
            if name not in known:
                extra[name] = raw
                continue
            default = known[name].default
            if isinstance(default, bool):
                values[name] = _bool(raw)
            elif isinstance(default, int):
                values[name] = _int(raw, name)
            else:
                values[name] = raw
        settings = cls(**values, extra=extra)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse values the service cannot run with, saying which and why."""
        if not (
            self.database_url.startswith("sqlite:///")
            or self.database_url.startswith(("postgresql://", "postgres://"))
        ):
            raise SettingsError(
                "POKAZNYK_DATABASE_URL must be sqlite:///path or postgresql://…, "
                f"not {self.database_url!r}"
            )
        try:
            ZoneInfo(self.timezone)
        except Exception:
            raise SettingsError(
                f"POKAZNYK_TIMEZONE {self.timezone!r} is not a known time zone"
            ) from None
        if not 1 <= self.messages_at_once <= 1000:
            raise SettingsError("POKAZNYK_MESSAGES_AT_ONCE must be between 1 and 1000")
        if not 0 <= self.statement_timeout_seconds <= 3600:
            raise SettingsError("POKAZNYK_STATEMENT_TIMEOUT_SECONDS must be between 0 and 3600")
        if not 4 <= self.account_number_length <= 20:
            raise SettingsError("POKAZNYK_ACCOUNT_NUMBER_LENGTH must be between 4 and 20")
        self._validate_window()

    def _validate_window(self) -> None:
        """The window's days, as `domain.window.WindowConfig` takes them."""
        before, after = self.window_days_before_month_end, self.window_days_after_month_start
        for name, days in (
            ("WINDOW_DAYS_BEFORE_MONTH_END", before),
            ("WINDOW_DAYS_AFTER_MONTH_START", after),
        ):
            if not 0 <= days <= LONGEST_WINDOW_DAYS:
                raise SettingsError(
                    f"POKAZNYK_{name} must be between 0 and {LONGEST_WINDOW_DAYS}, not {days}"
                )
        if not 1 <= before + after <= LONGEST_WINDOW_DAYS:
            raise SettingsError(
                "POKAZNYK_WINDOW_DAYS_BEFORE_MONTH_END and POKAZNYK_WINDOW_DAYS_AFTER_MONTH_START"
                f" must add up to between 1 and {LONGEST_WINDOW_DAYS} days (the shortest month),"
                f" not {before} + {after}"
            )
