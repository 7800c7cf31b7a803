"""Accounts: password hashing, creating users, resetting passwords (core + `gridmap users`)."""

from __future__ import annotations

import click
from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(plain: str) -> str:
    """The one way passwords are hashed (scrypt via Werkzeug)."""
    return generate_password_hash(plain, method="scrypt")


def check_password(password_hash: str, plain: str) -> bool:
    return check_password_hash(password_hash, plain)


@click.group("users")
def users_cli():
    """Accounts: create, reset passwords."""
