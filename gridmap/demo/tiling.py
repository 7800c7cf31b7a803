"""Synthetic but sane boundaries: county → townships → villages → grids as nested tilings.

Every level is cut from ONE noded arrangement of lines on a 1e-6° grid, and every
region at every level is the union of faces of that arrangement. So siblings share
their edges vertex for vertex and children tile their parent exactly, after the
coordinates are written with 6 decimals as well as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon

GRID_SIZE = 1e-6  # degrees: ~0.1 m, the precision of the written files
CENTRE_LONLAT = (102.40, 25.53)  # 武定县
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON = 111.32 * math.cos(math.radians(CENTRE_LONLAT[1]))


def km_to_lonlat(x_km: np.ndarray, y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (CENTRE_LONLAT[0] + x_km / KM_PER_DEG_LON, CENTRE_LONLAT[1] + y_km / KM_PER_DEG_LAT)


def county_outline(rng: np.random.Generator, area_km2: float = 2950.0) -> Polygon:
    """A wobbly, north–south elongated outline of about `area_km2`."""
    theta = np.linspace(0, 2 * math.pi, 120, endpoint=False)
    radius = np.ones_like(theta)
    for k, amplitude in ((2, 0.06), (3, 0.07), (5, 0.04), (7, 0.025), (11, 0.012)):
        radius += amplitude * np.sin(k * theta + rng.uniform(0, 2 * math.pi))
    x, y = 0.9 * radius * np.cos(theta), 1.12 * radius * np.sin(theta)
    scale = math.sqrt(area_km2 / Polygon(np.column_stack([x, y])).area)
    lon, lat = km_to_lonlat(x * scale, y * scale)
    return shapely.set_precision(Polygon(np.column_stack([lon, lat])), GRID_SIZE)


def spread_points(rng: np.random.Generator, within, count: int, near=None,
                  near_km: float | None = None) -> np.ndarray:
    """`count` lon/lat points inside `within`, kept apart (best of several candidates)."""
    lon_min, lat_min, lon_max, lat_max = within.bounds
    chosen: list[tuple[float, float]] = []
    shapely.prepare(within)
    while len(chosen) < count:
        if near is not None:
            lon = near[0] + rng.normal(0, near_km / KM_PER_DEG_LON, 48)
            lat = near[1] + rng.normal(0, near_km / KM_PER_DEG_LAT, 48)
        else:
            lon, lat = rng.uniform(lon_min, lon_max, 48), rng.uniform(lat_min, lat_max, 48)
        inside = shapely.contains_xy(within, lon, lat)
        candidates = np.column_stack([lon[inside], lat[inside]])[:12]
        if not len(candidates):
            continue
        if not chosen:
            chosen.append(tuple(candidates[0]))
            continue
        taken = np.array(chosen)
        gap = np.min(((candidates[:, None, 0] - taken[None, :, 0]) * KM_PER_DEG_LON) ** 2
                     + ((candidates[:, None, 1] - taken[None, :, 1]) * KM_PER_DEG_LAT) ** 2, axis=1)
        chosen.append(tuple(candidates[int(np.argmax(gap))]))
    return np.array(chosen)


@dataclass
class Cell:
    """One region of the hierarchy while it is being cut: its seed and its children."""

    key: str
    seed_lonlat: tuple[float, float]
    children: list[Cell] = field(default_factory=list)
    shape: Polygon | MultiPolygon | None = None  # unrounded, for cutting the level below
    faces: list[Polygon] = field(default_factory=list)


def voronoi_cells(parent_shape, cells: list[Cell]) -> None:
    """Give each cell its (unrounded) shape: the Voronoi cell of its seed, clipped to the parent."""
    if len(cells) == 1:
        cells[0].shape = parent_shape
        return
    seeds = MultiPoint([c.seed_lonlat for c in cells])
    diagram = shapely.voronoi_polygons(seeds, extend_to=parent_shape.envelope.buffer(0.1),
                                       ordered=True)
    for cell, polygon in zip(cells, diagram.geoms, strict=True):
        cell.shape = polygon.intersection(parent_shape)


def _nearest(cells: list[Cell], lonlat: tuple[float, float]) -> Cell:
    # In degrees, as voronoi_polygons measures: the same rule, so the same cells.
    seeds = np.array([c.seed_lonlat for c in cells])
    distance = (seeds[:, 0] - lonlat[0]) ** 2 + (seeds[:, 1] - lonlat[1]) ** 2
    return cells[int(np.argmin(distance))]


def cut(county: Cell) -> None:
    """Node every level's edges together on the grid and hand each face down the hierarchy.

    A face goes to the nearest seed at each level among the children of the cell it
    already went to, which is exactly the Voronoi rule; so every leaf's faces lie in its
    parent's and every cell is the union of its leaves.
    """
    lines = [county.shape.boundary]
    stack = [county]
    while stack:
        cell = stack.pop()
        if len(cell.children) > 1:
            lines.extend(child.shape.boundary for child in cell.children)
        stack.extend(cell.children)
    noded = shapely.union_all(lines, grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    for face in faces:
        point = face.representative_point()
        if not county.shape.contains(point):
            continue
        cell = county
        cell.faces.append(face)
        while cell.children:
            cell = _nearest(cell.children, (point.x, point.y))
            cell.faces.append(face)
    _dissolve(county)


def _dissolve(cell: Cell) -> None:
    merged = shapely.union_all(cell.faces, grid_size=GRID_SIZE)
    cell.shape = merged if isinstance(merged, MultiPolygon) else MultiPolygon([merged])
    for child in cell.children:
        _dissolve(child)


def lonlat_rings(multipolygon: MultiPolygon) -> list:
    """GeoJSON MultiPolygon coordinates, rounded to the grid (6 decimals)."""
    def ring(coords):
        return [[round(lon, 6), round(lat, 6)] for lon, lat in coords]

    return [[ring(p.exterior.coords), *(ring(h.coords) for h in p.interiors)]
            for p in shapely.normalize(multipolygon).geoms]


def points_inside(rng: np.random.Generator, shape, count: int, clusters: int = 2,
                  spread_km: float = 0.35) -> np.ndarray:
    """`count` lon/lat points strictly inside `shape` (6 decimals), clustered like hamlets."""
    lon_min, lat_min, lon_max, lat_max = shape.bounds
    centres = np.column_stack([rng.uniform(lon_min, lon_max, clusters * 8),
                               rng.uniform(lat_min, lat_max, clusters * 8)])
    centres = centres[shapely.contains_xy(shape, centres[:, 0], centres[:, 1])][:clusters]
    found = np.empty((0, 2))
    shapely.prepare(shape)
    while len(found) < count:
        need = (count - len(found)) * 3 + 8
        if len(centres):
            pick = centres[rng.integers(0, len(centres), need)]
            lon = pick[:, 0] + rng.normal(0, spread_km / KM_PER_DEG_LON, need)
            lat = pick[:, 1] + rng.normal(0, spread_km / KM_PER_DEG_LAT, need)
            uniform = rng.random(need) < 0.3
            lon[uniform] = rng.uniform(lon_min, lon_max, uniform.sum())
            lat[uniform] = rng.uniform(lat_min, lat_max, uniform.sum())
        else:
            lon, lat = rng.uniform(lon_min, lon_max, need), rng.uniform(lat_min, lat_max, need)
        lon, lat = np.round(lon, 6), np.round(lat, 6)
        inside = shapely.contains_xy(shape, lon, lat)
        found = np.vstack([found, np.column_stack([lon[inside], lat[inside]])])
    return found[:count]
