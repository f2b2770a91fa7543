"""`pokaznyk create-user`: staff accounts."""

from __future__ import annotations

import secrets
import sys

import click

from pokaznyk_core.cli.runner import fail, with_database
from pokaznyk_core.services.staff import Role, create_staff_user


@click.command("create-user")
@click.option("--username", required=True, help="Sign-in name (lowercase).")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in Role]), help="What they may do."
)
@click.option("--full-name", default="", help="Name shown in the dashboard.")
@click.option("--password", default=None, help="Password (else read from stdin, or generated).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def create_user(
    username: str, role: str, full_name: str, password: str | None, password_stdin: bool
) -> None:
    """Create a staff user (field, manager or admin) with an argon2-hashed password."""
    generated = False
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            fail("no password on stdin")
    elif password is None:
        password = secrets.token_urlsafe(12)
        generated = True
    chosen = password

    user_id = with_database(
        lambda _db, context: create_staff_user(
            context, username=username, role=role, password=chosen, full_name=full_name
        )
    )
    click.echo(f"created {role} user {username.strip().lower()} (id {user_id})")
    if generated:
        click.echo(f"password: {chosen}")
