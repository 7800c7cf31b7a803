"""Hand-written SQL: the baselines gridmap's own queries are measured against.

Each coverage rule is written as a person fluent in PostGIS would write it for one county,
with `county_code` in every table it reads. The raw layer query builds the same
FeatureCollection as `/map/grids.geojson` entirely in PostGIS.
"""

from __future__ import annotations

CURRENT = "valid_to IS NULL"

COVERAGE = {
    "village": f"""
        SELECT count(*) FROM region r
        WHERE r.county_code = %(county)s AND r.level = 'village' AND r.{CURRENT}
          AND NOT EXISTS (SELECT 1 FROM assignment a
                          WHERE a.county_code = %(county)s AND a.kind = 'village'
                            AND a.{CURRENT} AND a.region_code = r.code)""",
    "area": f"""
        SELECT count(*) FROM grid g
        WHERE g.county_code = %(county)s AND g.{CURRENT}
          AND NOT EXISTS (SELECT 1 FROM area_grid ag JOIN assignment a ON a.area_id = ag.area_id
                          WHERE ag.county_code = %(county)s AND a.county_code = %(county)s
                            AND ag.grid_code = g.code AND a.kind = 'area' AND a.{CURRENT})""",
    "group": f"""
        SELECT count(*) FROM grid g
        WHERE g.county_code = %(county)s AND g.{CURRENT}
          AND NOT EXISTS (SELECT 1 FROM assignment a
                          WHERE a.county_code = %(county)s AND a.kind = 'group'
                            AND a.{CURRENT} AND a.grid_code = g.code)""",
    "branch": f"""
        SELECT count(*) FROM party_branch b
        JOIN region v ON v.code = b.village_code AND v.county_code = %(county)s
                     AND v.level = 'village' AND v.{CURRENT}
        WHERE b.county_code = %(county)s
          AND NOT EXISTS (SELECT 1 FROM assignment a
                          WHERE a.county_code = %(county)s AND a.kind = 'branch'
                            AND a.{CURRENT} AND a.party_branch_id = b.id)""",
    "weak_branch": f"""
        SELECT count(*) FROM party_branch b
        JOIN region v ON v.code = b.village_code AND v.county_code = %(county)s
                     AND v.level = 'village' AND v.{CURRENT}
        WHERE b.county_code = %(county)s AND b.weak
          AND NOT EXISTS (SELECT 1 FROM assignment a
                          WHERE a.county_code = %(county)s AND a.kind = 'branch'
                            AND a.{CURRENT} AND a.party_branch_id = b.id)""",
    # From the kept fact the rule reads (migration 0033: households with no current 包户
    # assignment, kept by triggers), as the rule does: the same facts on both sides.
    "household": """
        SELECT count(*) FROM household h
        JOIN household_unassigned k ON k.household_id = h.id AND k.county_code = %(county)s
        WHERE h.county_code = %(county)s AND h.status = 'active'""",
    # The next three read the kept facts the rules read (migrations 0030, 0034, 0026's
    # village_uncovered), as a person would who knew they were there: the same facts on both
    # sides. RAW_COVERAGE below has each rule over the raw tables, reported beside them: what
    # keeping the fact saves.
    "visit": """
        SELECT count(*) FROM household_visit_state k
        WHERE k.county_code = %(county)s
          AND (k.last_visited_at IS NULL
               OR k.care_flags_changed_at > k.last_visited_at
               OR k.last_visited_at < %(now)s - make_interval(days => CASE
                    WHEN k.care_mask & 7 <> 0 THEN 30 WHEN k.care_mask <> 0 THEN 60 ELSE 90 END))""",
    "uncovered": """
        SELECT count(*) FROM household_outside_grid k
        JOIN household h ON h.id = k.household_id AND h.county_code = %(county)s
        WHERE k.county_code = %(county)s AND h.status = 'active'""",
    "uncovered_area": f"""
        SELECT count(*) FROM village_uncovered u
        JOIN region v ON v.county_code = %(county)s AND v.code = u.village_code
                     AND v.level = 'village' AND v.{CURRENT} AND v.geom IS NOT NULL
        WHERE u.county_code = %(county)s AND u.gap_m2 >= 10000 AND u.m2 >= 10000
          AND NOT ST_IsEmpty(u.geom)""",
    "grid_worker": f"""
        SELECT count(*) FROM grid g
        WHERE g.county_code = %(county)s AND g.{CURRENT}
          AND NOT EXISTS (SELECT 1 FROM app_user u
                          WHERE u.county_code = %(county)s AND u.role = 'grid_worker'
                            AND u.active AND u.scope_code = g.code)""",
}

# The same rules over the raw tables (no kept fact): reported beside the kept ones.
RAW_COVERAGE = {
    "visit": """
        SELECT count(*) FROM household h
        WHERE h.county_code = %(county)s
          AND NOT EXISTS (
            SELECT 1 FROM visit v
            WHERE v.county_code = %(county)s AND v.household_id = h.id
              AND v.visited_at >= %(now)s - make_interval(days => coalesce(least(
                    CASE WHEN h.extreme_poverty OR h.minimum_living OR h.relapse_monitoring
                         THEN 30 END,
                    CASE WHEN h.elderly_alone OR h.left_behind_children OR h.left_behind_women
                              OR h.left_behind_elderly OR h.disability_grade <= 2
                         THEN 60 END), 90)))""",
    "uncovered": f"""
        SELECT count(*) FROM household h
        WHERE h.county_code = %(county)s
          AND (h.grid_code IS NULL
               OR (h.geom IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM grid g
                                   WHERE g.county_code = %(county)s AND g.code = h.grid_code
                                     AND g.{CURRENT} AND ST_Covers(g.geom, h.geom))))""",
    "uncovered_area": f"""
        SELECT count(*) FROM (
          SELECT ST_Difference(v.geom, (SELECT ST_Union(g.geom) FROM grid g
                                        WHERE g.county_code = %(county)s AND g.{CURRENT}
                                          AND g.village_code = v.code)) AS hole
          FROM region v
          JOIN (SELECT village_code, sum(ST_Area(g.geom::geography)) AS m2 FROM grid g
                WHERE g.county_code = %(county)s AND g.{CURRENT} GROUP BY village_code) s
            ON s.village_code = v.code
          WHERE v.county_code = %(county)s AND v.level = 'village' AND v.{CURRENT}
            AND ST_Area(v.geom::geography) - s.m2 >= 10000) holes
        WHERE NOT ST_IsEmpty(hole) AND ST_Area(hole::geography) >= 10000""",
}

# The grids of one county as a GeoJSON FeatureCollection, with the same shapes (the stored
# display shape, else simplified now), precision and properties as gridmap's grid layer,
# made and serialised by PostGIS alone.
GRID_LAYER = f"""
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
             json_build_object(
               'type', 'Feature', 'id', g.code,
               'geometry', ST_AsGeoJSON(coalesce(g.geom_display,
                 ST_Multi(ST_SimplifyPreserveTopology(g.geom, 0.00005))), 5)::json,
               'properties', json_build_object(
                 'code', g.code, 'name', g.name, 'village_code', g.village_code, 'kind', g.kind,
                 'household_target', g.household_target, 'households', coalesce(n.households, 0),
                 'label_lonlat', ST_AsGeoJSON(ST_PointOnSurface(g.geom), 5)::json -> 'coordinates'))
             ORDER BY g.code), '[]'))::text
    FROM grid g
    LEFT JOIN (SELECT grid_code, count(*) AS households FROM household
               WHERE county_code = %(county)s AND grid_code IS NOT NULL GROUP BY grid_code) n
           ON n.grid_code = g.code
    WHERE g.county_code = %(county)s AND g.{CURRENT} AND g.geom IS NOT NULL"""

# Households placed in grids by one join, as a GIS would (the assign row's baseline): every
# grid a household's point lies in (both, on a shared edge).
ASSIGN_BY_JOIN = f"""
    CREATE TEMP TABLE bench_assign_join AS
    SELECT h.id, g.code FROM household h
    LEFT JOIN grid g ON g.county_code = h.county_code AND g.{CURRENT}
                    AND ST_Intersects(g.geom, h.geom)
    WHERE h.county_code = %(county)s"""

# What the appeals peers draw: the county's unresolved issues with a place, and what a naive
# popup shows (code, title, stage).
APPEALS_OPEN = ("SELECT id, code, title, status, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM issue "
                "WHERE county_code = '{county}' AND merged_into IS NULL AND geom IS NOT NULL "
                "AND status IN ('reported', 'triaged', 'in_progress', 'handled', 'feedback', "
                "'long_term') ORDER BY id")

# What the peers export: the county's current grids at full detail.
GRIDS_FULL = ("SELECT code, name, village_code, kind, household_target, geom FROM grid "
              "WHERE county_code = '{county}' AND valid_to IS NULL ORDER BY code")



def copy_and_locate(csv_path: str, columns: list[str], county: str) -> str:
    """psql script: \\copy the household CSV, then place every household in its grid."""
    staged = ", ".join(f'"{c}" text' for c in columns)
    return f"""
DROP TABLE IF EXISTS bench_household_located, bench_household_raw;
CREATE TABLE bench_household_raw ({staged});
\\copy bench_household_raw FROM '{csv_path}' WITH (FORMAT csv, HEADER true)
CREATE TABLE bench_household_located AS
  SELECT r.*, g.code AS located_grid_code
  FROM bench_household_raw r
  LEFT JOIN grid g ON g.county_code = '{county}' AND g.{CURRENT}
   AND ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint(nullif(r.lon, '')::float8,
                                                     nullif(r.lat, '')::float8), 4326));
"""
