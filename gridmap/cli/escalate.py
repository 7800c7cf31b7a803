"""`gridmap escalate`: raise overdue issues a level (小事不出村、大事不出乡: late means up).

Safe to run as often as wanted and from two places at once (core: gridmap.issues.escalate_overdue).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gridmap import issues
from gridmap.cli.common import transaction

FLAGS = {"limit": "--limit"}


@click.command("escalate")
@click.option("--limit", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="at most this many issues in one run (the next run takes the rest)")
@with_appcontext
def command(limit):
    """Escalate every overdue open issue one level, with a new deadline and the unit above."""
    with transaction(FLAGS) as session:
        raised = issues.escalate_overdue(session, limit)
        lines = [f"{issue.code}  → {issue.level}" for issue in raised]
    for line in lines:
        click.echo(line)
    click.echo(f"escalated {len(lines)}")
