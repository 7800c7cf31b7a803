"""The seeded demo-county generator: same seed, same scale ⇒ byte-identical files.

Real townships and villages of 武定县 (NBS codes, data/regions/532329.csv), synthetic
boundaries (demo/tiling.py), fake people, the 五包 chain with deliberate gaps
(listed in deliberate_gaps.csv), issues with their event history, visits.
Times are written as offsets from the moment of loading (`-P12DT3H`).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from gridmap import codes
from gridmap.demo import activity, categories, ledgers, organisation
from gridmap.demo.county import (
    CHADIAN,
    COUNTY_CODE,
    REGIONS_FILE,
    SHISHAN,
    TIANXIN,
    UNCOVERED_VILLAGE,
)
from gridmap.demo.households import STREETS, household_row
from gridmap.demo.people import hamlet_name, short_region_name
from gridmap.demo.tiling import (
    Cell,
    county_outline,
    cut,
    lonlat_rings,
    points_inside,
    spread_points,
    voronoi_cells,
    wiggle,
)


@dataclass(frozen=True)
class Scale:
    name: str
    townships: tuple[str, ...] | None  # None: all of the county
    households: int
    grids: int
    issues: int
    households_per_cadre: tuple[int, int]
    visit_last_max_days: tuple[int, int]  # (care households, others): last visit within
    visit_interval_days: tuple[tuple[int, int], tuple[int, int]]
    vertex_spacing_km: float  # of shared edges: ~150 vertices a grid, as traced on a basemap


SCALES = {
    "demo": Scale("demo", (SHISHAN, CHADIAN, TIANXIN), households=5200, grids=110, issues=500,
                  households_per_cadre=(10, 18), visit_last_max_days=(25, 80),
                  visit_interval_days=((18, 28), (50, 85)), vertex_spacing_km=0.06),
    "county": Scale("county", None, households=300_000, grids=2400, issues=30_000,
                    households_per_cadre=(12, 20), visit_last_max_days=(25, 80),
                    visit_interval_days=((40, 60), (120, 170)), vertex_spacing_km=0.028),
}


@dataclass
class County:
    """Everything generated, as rows ready to write (dicts keyed by file column)."""

    scale: Scale
    regions: list[dict] = field(default_factory=list)  # with "geom" (GeoJSON coordinates)
    grids: list[dict] = field(default_factory=list)
    households: list[dict] = field(default_factory=list)
    tables: dict[str, list[dict]] = field(default_factory=dict)  # the CSV tables
    gaps: list[dict] = field(default_factory=list)
    gap_shape: object = None


def is_community(village_code: str) -> bool:
    """NBS village serials 001–199 are 居委会 (communities), 200–399 村委会."""
    return village_code[9] in "01"


def read_regions(path: Path = REGIONS_FILE) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _largest_remainder(weights: np.ndarray, total: int, minimum: np.ndarray) -> np.ndarray:
    share = minimum + (total - minimum.sum()) * weights / weights.sum()
    counts = np.floor(share).astype(int)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


# Where each township lies in the county's bounding box (west→east, south→north), roughly
# as on a map of 武定县: the county seat 狮山 in the south, the 金沙江 townships in the north.
TOWNSHIP_PLACES = {
    "532329101": (0.52, 0.28), "532329102": (0.68, 0.10), "532329103": (0.36, 0.12),
    "532329104": (0.66, 0.46), "532329105": (0.30, 0.52), "532329106": (0.32, 0.74),
    "532329107": (0.34, 0.92), "532329202": (0.84, 0.32), "532329203": (0.22, 0.30),
    "532329207": (0.62, 0.74), "532329208": (0.60, 0.92),
}


def _township_seeds(outline, townships: list[dict], rng: np.random.Generator) -> np.ndarray:
    lon_min, lat_min, lon_max, lat_max = outline.bounds
    centre = np.array(outline.centroid.coords[0])
    seeds = []
    for township in townships:
        u, v = TOWNSHIP_PLACES.get(township["code"], rng.uniform(0.2, 0.8, 2))
        point = np.array([lon_min + u * (lon_max - lon_min), lat_min + v * (lat_max - lat_min)])
        point += rng.normal(0, 0.01, 2)
        while not outline.contains(shapely.Point(point)):  # pull it in towards the centre
            point = centre + 0.9 * (point - centre)
        seeds.append(point)
    return np.array(seeds)


def build_geometry(county: County, rng: np.random.Generator, seed: int) -> dict[str, Cell]:
    """Cut the county into all its townships and villages, and the villages of the scale's
    townships into grid cells; returns cells by code (grid cells are children of villages)."""
    scale = county.scale
    regions = read_regions()
    townships = [r for r in regions if r["level"] == "township"]
    all_villages = [r for r in regions if r["level"] == "village"]
    villages = [v for v in all_villages if has_grids(scale, v["parent_code"])]
    root = Cell(COUNTY_CODE, (0.0, 0.0))
    root.shape = county_outline(rng, spacing_km=scale.vertex_spacing_km)
    seeds = _township_seeds(root.shape, townships, rng)
    root.children = [Cell(t["code"], tuple(s)) for t, s in zip(townships, seeds, strict=True)]
    voronoi_cells(root.shape, root.children)

    village_households = _village_households(villages, scale, rng)
    grid_counts = dict(zip((v["code"] for v in villages), _largest_remainder(
        village_households.astype(float), scale.grids,
        np.array([2 if (is_community(v["code"]) or v["code"] == UNCOVERED_VILLAGE) else 1
                  for v in villages])), strict=True))
    cells = {c.key: c for c in root.children}
    for township in root.children:
        mine = [v for v in all_villages if v["parent_code"] == township.key]
        communities = [v for v in mine if is_community(v["code"])]
        urban = spread_points(rng, township.shape, len(communities), near=township.seed_lonlat,
                              near_km=2.0) if communities else np.empty((0, 2))
        rural = spread_points(rng, township.shape, len(mine) - len(communities))
        township.children = [Cell(v["code"], tuple(s))
                             for v, s in zip(mine, list(urban) + list(rural), strict=True)]
        voronoi_cells(township.shape, township.children)
        for village in township.children:
            cells[village.key] = village
            if village.key not in grid_counts:
                continue
            grid_seeds = spread_points(rng, village.shape, int(grid_counts[village.key]))
            village.children = [Cell(f"{village.key}#{i}", tuple(s)) for i, s in enumerate(grid_seeds)]
            voronoi_cells(village.shape, village.children)
    cut(root)
    wiggle(root, seed, scale.vertex_spacing_km)
    cells[COUNTY_CODE] = root
    county.regions = [_region_row(r, cells[r["code"]]) for r in regions]
    for village, households in zip(villages, village_households, strict=True):
        village["households"] = int(households)
    county.tables["_villages"] = villages
    return cells


def has_grids(scale: Scale, township_code: str) -> bool:
    """Whether the scale draws grids (and puts households) in this township."""
    return scale.townships is None or township_code in scale.townships


def _village_households(villages: list[dict], scale: Scale, rng: np.random.Generator) -> np.ndarray:
    weights = np.array([2.5 if is_community(v["code"]) else 1.0 for v in villages])
    weights *= rng.lognormal(0, 0.3, len(villages))
    return _largest_remainder(weights, scale.households, np.full(len(villages), 20))


def _region_row(region: dict, cell: Cell) -> dict:
    return {"code": region["code"], "name": short_region_name(region["name"]),
            "level": region["level"], "parent_code": region["parent_code"],
            "geom": lonlat_rings(cell.shape)}


def build_grids_and_households(county: County, cells: dict[str, Cell], rng: np.random.Generator,
                               rnd: random.Random) -> None:
    """Grids (village code + 3-digit serial, north→south then west→east) and their households.

    A rural grid is a 自然村 or two (named after its hamlet); a 社区 grid is a block of streets.
    """
    names = {r["code"]: r["name"] for r in county.regions}
    for village in county.tables["_villages"]:
        cell = cells[village["code"]]
        community = is_community(village["code"])
        ordered = sorted(cell.children, key=lambda c: (-round(c.shape.centroid.y, 2), c.shape.centroid.x))
        gap_cell = ordered[len(ordered) // 2] if village["code"] == UNCOVERED_VILLAGE else None
        shares = rng.multinomial(village["households"],
                                 np.full(len(ordered), 1 / len(ordered)))
        serial, places = 0, set()
        household_serial = 0
        for grid_cell, count in zip(ordered, shares, strict=True):
            grid_code = ""
            place = street_name(rnd, places) if community else hamlet_name(rnd, places)
            if grid_cell is gap_cell:
                county.gap_shape = grid_cell.shape
            else:
                serial += 1
                grid_code = codes.make_grid_code(village["code"], serial)
                county.grids.append({
                    "code": grid_code, "village_code": village["code"],
                    "name": f"{names[village['code']]}第{serial}网格（{place}{'片' if community else ''}）",
                    "kind": "basic", "household_target": int(max(count, 1) * 1.1) // 10 * 10 + 10,
                    "geom": lonlat_rings(grid_cell.shape), "_shape": grid_cell.shape})
            for lon, lat in points_inside(rng, grid_cell.shape, int(count),
                                          clusters=1 if community else rnd.randint(1, 3),
                                          spread_km=0.15 if community else 0.35):
                household_serial += 1
                county.households.append(household_row(
                    rnd, code=f"{village['code']}{household_serial:05d}", village=village,
                    township_name=names[village["parent_code"]], village_name=names[village["code"]],
                    grid_code=grid_code, place=place, community=community,
                    lonlat=None if rnd.random() < 0.01 else (round(float(lon), 6), round(float(lat), 6))))
    for grid in county.grids[:1]:
        if grid["village_code"].startswith(SHISHAN):
            grid["kind"], grid["name"] = "dedicated", "武定县第一中学专属网格"


def street_name(rnd: random.Random, taken: set[str]) -> str:
    free = [s for s in STREETS if s not in taken] or [f"{s}{len(taken)}" for s in STREETS]
    name = rnd.choice(free)
    taken.add(name)
    return name


def generate(seed: int, scale_name: str = "demo") -> County:
    """Build the whole county in memory (deterministic in `seed`)."""
    county = County(SCALES[scale_name])
    rng = np.random.default_rng([seed, 2329])
    rnd = random.Random(f"gridmap-demo-{seed}")
    cells = build_geometry(county, rng, seed)
    build_grids_and_households(county, cells, rng, rnd)
    county.gaps.append({"kind": "uncovered_area", "code": UNCOVERED_VILLAGE,
                        "why": "村内有住户的一片没有划入任何网格（空白点）；这些户 grid_code 为空"})
    county.gaps.extend(
        {"kind": "township_without_grids", "code": r["code"],
         "why": "乡镇及其村（社区）已有边界，但尚未划分网格、未录入住户（演示数据只细化了三个乡镇）"}
        for r in county.regions if r["level"] == "township" and not has_grids(county.scale, r["code"]))
    organisation.build(county, rnd)
    categories.build(county)
    activity.build(county, rnd)
    # The ledgers draw from their own generator: the files above stay as they were.
    ledgers.build(county, random.Random(f"gridmap-demo-{seed}-ledgers"))
    return county


# --- writing -------------------------------------------------------------------------

GRID_COLUMNS = ("code", "village_code", "name", "kind", "household_target")
HOUSEHOLD_COLUMNS = ("code", "grid_code", "village_code", "address", "head_name", "phone",
                     "id_number", "size", "residence_type", "minimum_living", "extreme_poverty",
                     "lifted_from_poverty", "relapse_monitoring", "disability_category",
                     "disability_grade", "left_behind_children", "left_behind_women",
                     "left_behind_elderly", "elderly_alone")


def _feature_line(properties: dict, geometry: dict | None) -> str:
    return json.dumps({"type": "Feature", "properties": properties, "geometry": geometry},
                      ensure_ascii=False, separators=(",", ":"))


def write_geojson(path: Path, features: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        f.write(",\n".join(features))
        f.write("\n]}\n")


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])


def write(county: County, out: Path) -> dict[str, int]:
    """Write every table into `out`; returns file sizes in bytes."""
    out.mkdir(parents=True, exist_ok=True)
    write_geojson(out / "regions.geojson", [
        _feature_line({k: r[k] for k in ("code", "name", "level", "parent_code")},
                      {"type": "MultiPolygon", "coordinates": r["geom"]}) for r in county.regions])
    write_geojson(out / "grids.geojson", [
        _feature_line({k: g[k] for k in GRID_COLUMNS}, {"type": "MultiPolygon", "coordinates": g["geom"]})
        for g in county.grids])
    write_geojson(out / "households.geojson", [
        _feature_line({k: h[k] for k in HOUSEHOLD_COLUMNS if h.get(k) not in (None, "")},
                      {"type": "Point", "coordinates": list(h["lonlat"])} if h["lonlat"] else None)
        for h in county.households])
    for name, columns in (organisation.COLUMNS | categories.COLUMNS | activity.COLUMNS
                          | ledgers.COLUMNS).items():
        write_csv(out / f"{name}.csv", columns, county.tables[name])
    write_csv(out / "deliberate_gaps.csv", ("kind", "code", "why"), county.gaps)
    return {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
