"""`gridmap demo ...`"""

import click


@click.group()
def demo():
    """Demo data: generate (seeded) and load (through the import core)."""
