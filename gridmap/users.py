"""Accounts: create users and reset passwords (core + `gridmap users` commands)."""

import click


@click.group("users")
def users_cli():
    """Accounts: create, reset passwords."""
