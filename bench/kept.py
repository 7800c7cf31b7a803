"""The kept facts in the ten-county copy: which tables the triggers keep, and a check that a
copied county's kept rows say what the raw tables say.

The ten-county database copies its raw rows with the triggers off (bench.data), so it
copies the kept tables' rows too, rewritten as the raw rows are. KEPT is the one list of
those tables, each with the SQL that tells a county's kept rows from what its raw tables
give (the definitions of migrations 0026, 0030–0033 and 0034, as tests/db/test_coverage_kept.py
checks them, scoped to one county). `kept_tables` finds in the database which tables the
triggers on the copied tables write: the build refuses a table KEPT does not know, and
tests/db/test_bench_kept.py checks the list against a migrated database.
"""

from __future__ import annotations

import re


def _both_ways(kept: str, fresh: str) -> str:
    """SQL counting the rows on one side only: `kept` and `fresh` select the same columns."""
    return f"SELECT count(*) FROM (({kept} EXCEPT {fresh}) UNION ALL ({fresh} EXCEPT {kept})) d"


# table → SQL counting the county's (%(county)s) kept rows that differ from the raw tables.
KEPT: dict[str, str] = {
    # each visited household's last visit and last 走访 (0026)
    "household_last_visit": _both_ways(
        "SELECT household_id, visited_at, walked_at FROM household_last_visit"
        " WHERE county_code = %(county)s",
        "SELECT household_id, max(visited_at), max(visited_at) FILTER (WHERE kind = 'visit')"
        " FROM visit WHERE county_code = %(county)s GROUP BY household_id"),
    # each gridded village's area less its grids' and, from 10,000 m², the part none covers (0026)
    "village_uncovered": """
        WITH fresh AS (
          SELECT v.code, ST_Area(v.geom::geography) - sum(ST_Area(g.geom::geography)) AS gap_m2,
                 ST_Difference(v.geom, ST_Union(g.geom)) AS geom
          FROM region v JOIN grid g ON g.county_code = v.county_code AND g.village_code = v.code
            AND g.valid_to IS NULL AND g.geom IS NOT NULL
          WHERE v.county_code = %(county)s AND v.level = 'village' AND v.valid_to IS NULL
            AND v.geom IS NOT NULL
          GROUP BY v.code, v.geom),
        kept AS (SELECT * FROM village_uncovered WHERE county_code = %(county)s)
        SELECT count(*) FROM fresh f FULL JOIN kept k ON k.village_code = f.code
        WHERE f.code IS NULL OR k.village_code IS NULL OR abs(f.gap_m2 - k.gap_m2) > 0.01
           OR (f.gap_m2 < 10000) <> (k.geom IS NULL)
           OR (f.gap_m2 >= 10000 AND (abs(ST_Area(f.geom::geography) - k.m2) > 0.01 OR NOT (
                 ST_Equals(f.geom, k.geom) OR (ST_IsEmpty(f.geom) AND ST_IsEmpty(k.geom)))))""",
    # households with no grid, or whose point their own current grid does not cover (0030)
    "household_outside_grid": _both_ways(
        "SELECT household_id FROM household_outside_grid WHERE county_code = %(county)s",
        """SELECT h.id FROM household h
           LEFT JOIN grid g ON g.county_code = h.county_code AND g.code = h.grid_code
             AND g.valid_to IS NULL
           WHERE h.county_code = %(county)s AND (h.grid_code IS NULL
             OR (h.geom IS NOT NULL AND (g.id IS NULL OR NOT ST_Covers(g.geom, h.geom))))"""),
    # each grid's median last visit over its active households ever visited (0031)
    "grid_last_visit": _both_ways(
        "SELECT grid_code, round(median_epoch) FROM grid_last_visit"
        " WHERE county_code = %(county)s",
        """SELECT h.grid_code, round(percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY extract(epoch FROM last.at)::float8))
           FROM household h
           JOIN (SELECT household_id, max(visited_at) AS at FROM visit
                 WHERE county_code = %(county)s GROUP BY household_id) last
             ON last.household_id = h.id
           WHERE h.county_code = %(county)s AND h.status = 'active' AND h.grid_code IS NOT NULL
           GROUP BY h.grid_code"""),
    # active households per village and grid (0032)
    "household_count": _both_ways(
        "SELECT village_code, grid_code, households FROM household_count"
        " WHERE county_code = %(county)s",
        "SELECT coalesce(village_code, ''), coalesce(grid_code, ''), count(*)::int FROM household"
        " WHERE county_code = %(county)s AND status = 'active' GROUP BY 1, 2"),
    # households with no current 包户 assignment in their county (0033)
    "household_unassigned": _both_ways(
        "SELECT household_id FROM household_unassigned WHERE county_code = %(county)s",
        """SELECT h.id FROM household h WHERE h.county_code = %(county)s
             AND NOT EXISTS (SELECT 1 FROM assignment a WHERE a.household_id = h.id
                             AND a.kind = 'household' AND a.county_code = h.county_code
                             AND a.valid_to IS NULL)"""),
    # each active household's place, care flags as bits (coverage.CARE_BIT: CARE_FLAGS in
    # order), care change and last visit: what the `visit` rule counts from (0034)
    "household_visit_state": _both_ways(
        "SELECT household_id, village_code, grid_code, care_mask, care_flags_changed_at,"
        " last_visited_at FROM household_visit_state WHERE county_code = %(county)s",
        """SELECT h.id, h.village_code, h.grid_code,
                  (CASE WHEN h.extreme_poverty THEN 1 ELSE 0 END
                   | CASE WHEN h.minimum_living THEN 2 ELSE 0 END
                   | CASE WHEN h.relapse_monitoring THEN 4 ELSE 0 END
                   | CASE WHEN h.elderly_alone THEN 8 ELSE 0 END
                   | CASE WHEN h.left_behind_children THEN 16 ELSE 0 END
                   | CASE WHEN h.left_behind_women THEN 32 ELSE 0 END
                   | CASE WHEN h.left_behind_elderly THEN 64 ELSE 0 END
                   | CASE WHEN h.disability_grade <= 2 THEN 128 ELSE 0 END)::smallint,
                  h.care_flags_changed_at,
                  (SELECT max(v.visited_at) FROM visit v WHERE v.household_id = h.id
                     AND v.county_code = h.county_code)
           FROM household h WHERE h.county_code = %(county)s AND h.status = 'active'"""),
}

# What a function body writes (`DO UPDATE SET` of an upsert names no table) and calls.
_WRITES = re.compile(r"\b(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE)\s+(?!SET\b)(\w+)", re.I)
_CALLS = re.compile(r"\b(\w+)\s*\(")


def kept_tables(cur, tables: tuple[str, ...]) -> set[str]:
    """The tables, other than `tables`, that the triggers on `tables` write: in their trigger
    functions and the functions those call, and on through the triggers of what they write
    (household_last_visit's keep grid_last_visit)."""
    cur.execute("""
        SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prolang IN (SELECT oid FROM pg_language
                                                     WHERE lanname IN ('sql', 'plpgsql'))""")
    bodies = dict(cur.fetchall())
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    names = {name for (name,) in cur.fetchall()}
    cur.execute("""
        SELECT c.relname, p.proname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal""")
    triggers: dict[str, set[str]] = {}
    for table, function in cur.fetchall():
        triggers.setdefault(table, set()).add(function)
    written: set[str] = set()
    todo, seen_tables, seen_functions = list(tables), set(), set()
    while todo:
        table = todo.pop()
        if table in seen_tables:
            continue
        seen_tables.add(table)
        functions = list(triggers.get(table, ()))
        while functions:
            function = functions.pop()
            if function in seen_functions:
                continue
            seen_functions.add(function)
            body = bodies.get(function, "")
            functions.extend(name for name in _CALLS.findall(body) if name in bodies)
            for target in set(_WRITES.findall(body)) & names:
                written.add(target)
                todo.append(target)
    return written - set(tables)


def drift(cur, county: str) -> dict[str, int]:
    """Per kept table, how many of `county`'s kept rows differ from what its raw tables give."""
    counts = {}
    for table, sql in KEPT.items():
        cur.execute(sql, {"county": county})
        counts[table] = cur.fetchone()[0]
    return counts
