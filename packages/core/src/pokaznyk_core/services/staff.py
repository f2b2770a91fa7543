"""Staff accounts: field inspectors, managers and admins with argon2 password hashes."""

from __future__ import annotations

import asyncio
import re
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pokaznyk_core.domain.outcomes import Code, Problem
from pokaznyk_core.services.audit import record_audit
from pokaznyk_core.services.context import ServiceContext
from pokaznyk_core.services.errors import ServiceError
from pokaznyk_core.storage.tables import StaffUser
from pokaznyk_core.storage.transactions import write_transaction

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


class Role(StrEnum):
    """What a member of staff may do."""

    FIELD = "field"
    MANAGER = "manager"
    ADMIN = "admin"


async def hash_password(password: str) -> str:
    """An argon2id hash, computed in a thread (it takes ~100 ms by design)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def password_matches(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored argon2 hash."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


async def create_staff_user(
    context: ServiceContext,
    *,
    username: str,
    role: str,
    password: str,
    full_name: str = "",
    actor: str = "cli",
) -> int:
    """Create a staff user; ServiceError when the name, role or password cannot be used."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise ServiceError(
            Problem(Code.STAFF_USERNAME_FORMAT),
            "username must be 2-60 characters: lowercase letters, digits, '.', '_' or '-'",
        )
    try:
        role_value = Role(role)
    except ValueError:
        raise ServiceError(
            Problem(Code.STAFF_ROLE_UNKNOWN),
            f"role must be one of {', '.join(r.value for r in Role)}, not {role!r}",
        ) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            Problem(Code.STAFF_PASSWORD_TOO_SHORT, {"min": MIN_PASSWORD_LENGTH}),
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
        )
    password_hash = await hash_password(password)
    now = context.now()
    async with write_transaction():
        if await StaffUser.exists().where(StaffUser.username == username):
            raise ServiceError(
                Problem(Code.STAFF_USERNAME_TAKEN), f"a user named {username!r} already exists"
            )
        rows = await StaffUser.insert(
            StaffUser(
                username=username,
                full_name=full_name,
                role=role_value.value,
                password_hash=password_hash,
                created_at=now,
            )
        )
        user_id = int(rows[0]["id"])
        await record_audit(
            at=now,
            actor=actor,
            action="staff.created",
            entity="staff_user",
            entity_id=str(user_id),
            details={"username": username, "role": role_value.value},
        )
    return user_id
