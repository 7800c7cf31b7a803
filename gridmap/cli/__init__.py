"""`gridmap …`: every command group of the project, gathered in this package.

| module     | group             | what                                                   |
|------------|-------------------|--------------------------------------------------------|
| db         | `gridmap db`      | where the database is, migrations, psql, prepare       |
| demo       | `gridmap demo`    | generate (seeded) and load the demo county             |
| users      | `gridmap users`   | create accounts, reset passwords                       |
| settings   | `gridmap settings`| per-county settings                                    |
| categories | `gridmap categories`, `gridmap ownership` | issue categories, dispatch rules |
| escalate   | `gridmap escalate`| raise overdue issues a level                           |
| tokens     | `gridmap tokens`  | API tokens for other systems: create, list, revoke     |
| export     | `gridmap export`  | a public collection to GeoJSON, GeoPackage, CSV, XLSX  |
| importer   | `gridmap import`  | a person's files (or a directory) through the import core |
| codes      | `gridmap codes`   | record a region's code change (撤乡设镇, mergers), list them |
| backup     | `gridmap backup`, `gridmap restore` | database dump + stored files, checked restore |
| audit      | `gridmap audit prune` | remove audit events past the retention (as the owner role) |
| common     |                   | the transaction helper, the database URL, messages     |

Commands are thin: parse options, call one core function inside `common.transaction`,
print. A core refusal (gridmap.errors) becomes a message naming the flag and exit status
1 there, once. A new group is a module here and a line in `_register`.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup


def _make_app():
    from gridmap import create_app
    from gridmap.cli.common import refused
    from gridmap.errors import GridmapError

    try:
        return create_app()
    except GridmapError as exc:
        raise refused(exc) from exc


@click.group(cls=FlaskGroup, create_app=_make_app, add_version_option=False)
def main():
    """gridmap: 民情地图 grid management."""


def _register() -> None:
    from gridmap.cli import (
        audit,
        backup,
        categories,
        codes,
        db,
        demo,
        escalate,
        export,
        importer,
        settings,
        tokens,
        users,
    )

    for module in (db, demo, users, settings, categories, tokens, audit, codes):
        main.add_command(module.group)
    main.add_command(categories.ownership_group)
    main.add_command(escalate.command)
    main.add_command(export.command)
    main.add_command(importer.command)
    main.add_command(backup.backup_command)
    main.add_command(backup.restore_command)


_register()
