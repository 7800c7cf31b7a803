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

from gridmap.demo import activity, organisation
from gridmap.demo.county import (
    CHADIAN,
    COUNTY_CODE,
    REGIONS_FILE,
    SHISHAN,
    TIANXIN,
    UNCOVERED_VILLAGE,
)
from gridmap.demo.people import hamlet_name, id_number, person_name, phone, short_region_name
from gridmap.demo.tiling import (
    Cell,
    county_outline,
    cut,
    lonlat_rings,
    points_inside,
    spread_points,
    voronoi_cells,
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


SCALES = {
    "demo": Scale("demo", (SHISHAN, CHADIAN, TIANXIN), households=5200, grids=110, issues=500,
                  households_per_cadre=(10, 18), visit_last_max_days=(25, 80),
                  visit_interval_days=((18, 28), (50, 85))),
    "county": Scale("county", None, households=300_000, grids=2400, issues=30_000,
                    households_per_cadre=(12, 20), visit_last_max_days=(25, 80),
                    visit_interval_days=((40, 60), (120, 170))),
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


def build_geometry(county: County, rng: np.random.Generator) -> dict[str, Cell]:
    """Cut the county into townships, villages and grid cells; returns cells by code."""
    scale = county.scale
    regions = read_regions()
    townships = [r for r in regions if r["level"] == "township"]
    villages = [r for r in regions if r["level"] == "village"
                and (scale.townships is None or r["parent_code"] in scale.townships)]
    root = Cell(COUNTY_CODE, (0.0, 0.0))
    root.shape = county_outline(rng)
    seeds = spread_points(rng, root.shape, len(townships))
    centre = np.array(root.shape.centroid.coords[0])
    seat = int(np.argmin(((seeds - centre) ** 2).sum(axis=1)))  # 狮山镇, the county seat
    order = [seat] + [i for i in range(len(seeds)) if i != seat]
    root.children = [Cell(t["code"], tuple(seeds[i])) for t, i in zip(townships, order, strict=True)]
    voronoi_cells(root.shape, root.children)

    village_households = _village_households(villages, scale, rng)
    grid_counts = _largest_remainder(
        village_households.astype(float), scale.grids,
        np.array([2 if (is_community(v["code"]) or v["code"] == UNCOVERED_VILLAGE) else 1
                  for v in villages]))
    cells = {c.key: c for c in root.children}
    for township in root.children:
        mine = [(v, n) for v, n in zip(villages, grid_counts, strict=True)
                if v["parent_code"] == township.key]
        if not mine:
            continue
        communities = [v for v, _ in mine if is_community(v["code"])]
        urban = spread_points(rng, township.shape, len(communities), near=township.seed_lonlat,
                              near_km=2.0) if communities else np.empty((0, 2))
        rural = spread_points(rng, township.shape, len(mine) - len(communities))
        seeds = list(urban) + list(rural)
        township.children = [Cell(v["code"], tuple(s)) for (v, _), s in zip(mine, seeds, strict=True)]
        voronoi_cells(township.shape, township.children)
        for village, (_, n_grids) in zip(township.children, mine, strict=True):
            grid_seeds = spread_points(rng, village.shape, int(n_grids))
            village.children = [Cell(f"{village.key}#{i}", tuple(s)) for i, s in enumerate(grid_seeds)]
            voronoi_cells(village.shape, village.children)
            cells[village.key] = village
    cut(root)
    cells[COUNTY_CODE] = root
    county.regions = [_region_row(r, cells[r["code"]]) for r in regions
                      if r["code"] in cells and cells[r["code"]].shape is not None
                      and (r["level"] != "township" or scale.townships is None
                           or r["code"] in scale.townships)]
    for village in villages:
        village["households"] = int(village_households[villages.index(village)])
    county.tables["_villages"] = villages
    return cells


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
    """Grids (village code + 3-digit serial, north→south then west→east) and their households."""
    names = {r["code"]: r["name"] for r in county.regions}
    for village in county.tables["_villages"]:
        cell = cells[village["code"]]
        ordered = sorted(cell.children, key=lambda c: (-round(c.shape.centroid.y, 2), c.shape.centroid.x))
        gap_cell = ordered[len(ordered) // 2] if village["code"] == UNCOVERED_VILLAGE else None
        shares = rng.multinomial(village["households"],
                                 np.full(len(ordered), 1 / len(ordered)))
        serial, hamlets = 0, set()
        household_serial = 0
        for grid_cell, count in zip(ordered, shares, strict=True):
            grid_code = ""
            hamlet = hamlet_name(rnd, hamlets)
            if grid_cell is gap_cell:
                county.gap_shape = grid_cell.shape
            else:
                serial += 1
                grid_code = f"{village['code']}{serial:03d}"
                county.grids.append({
                    "code": grid_code, "village_code": village["code"],
                    "name": f"{names[village['code']]}第{serial}网格（{hamlet}）",
                    "kind": "basic", "household_target": int(max(count, 1) * 1.1) // 10 * 10 + 10,
                    "geom": lonlat_rings(grid_cell.shape), "_shape": grid_cell.shape})
            for lon, lat in points_inside(rng, grid_cell.shape, int(count),
                                          clusters=rnd.randint(1, 3)):
                household_serial += 1
                county.households.append(_household(
                    rnd, village, names, grid_code, hamlet, household_serial, lon, lat))
    for grid in county.grids[:1]:
        if grid["village_code"].startswith(SHISHAN):
            grid["kind"], grid["name"] = "dedicated", "武定县第一中学专属网格"


def _household(rnd: random.Random, village: dict, names: dict, grid_code: str, hamlet: str,
               serial: int, lon: float, lat: float) -> dict:
    head = person_name(rnd)
    row = {"code": f"{village['code']}{serial:05d}", "grid_code": grid_code,
           "village_code": village["code"],
           "address": f"{names[village['parent_code']]}{names[village['code']]}{hamlet}{rnd.randint(1, 120)}号",
           "head_name": head, "phone": phone(rnd) if rnd.random() < 0.9 else "",
           "id_number": id_number(rnd, COUNTY_CODE) if rnd.random() < 0.95 else "",
           "size": rnd.choices((1, 2, 3, 4, 5, 6, 7), (8, 16, 22, 26, 16, 8, 4))[0],
           "residence_type": rnd.choices(("registered", "resident", "migrant"), (80, 12, 8))[0],
           "hamlet": hamlet,
           "lonlat": None if rnd.random() < 0.01 else (round(float(lon), 6), round(float(lat), 6))}
    for flag, share in (("minimum_living", 0.06), ("extreme_poverty", 0.015),
                        ("lifted_from_poverty", 0.15), ("relapse_monitoring", 0.02),
                        ("left_behind_children", 0.04), ("left_behind_women", 0.03),
                        ("left_behind_elderly", 0.06), ("elderly_alone", 0.05)):
        if rnd.random() < share:
            row[flag] = "true"
    if rnd.random() < 0.05:
        row["disability_category"] = rnd.choice(("视力", "听力", "言语", "肢体", "智力", "精神", "多重"))
        row["disability_grade"] = rnd.randint(1, 4)
    return row


def generate(seed: int, scale_name: str = "demo") -> County:
    """Build the whole county in memory (deterministic in `seed`)."""
    county = County(SCALES[scale_name])
    rng = np.random.default_rng([seed, 2329])
    rnd = random.Random(f"gridmap-demo-{seed}")
    cells = build_geometry(county, rng)
    build_grids_and_households(county, cells, rng, rnd)
    county.gaps.append({"kind": "uncovered_area", "code": UNCOVERED_VILLAGE,
                        "why": "村内有住户的一片没有划入任何网格（空白点）；这些户 grid_code 为空"})
    organisation.build(county, rnd)
    activity.build(county, rnd)
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
    for name, columns in organisation.COLUMNS.items() | activity.COLUMNS.items():
        write_csv(out / f"{name}.csv", columns, county.tables[name])
    write_csv(out / "deliberate_gaps.csv", ("kind", "code", "why"), county.gaps)
    return {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
