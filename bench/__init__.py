"""`make bench`: gridmap's hot paths timed against raw PostGIS and peer tools (issue 9).

Run `python -m bench` (what `make bench` does after set-up). Each row measures gridmap and
its baseline in the same run, alternating, and reports min and median; `report` turns the
rows into bench/results/latest.md and decides the exit status.
"""
