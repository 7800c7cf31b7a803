"""Synthetic but sane boundaries: county → townships → villages → grids as nested tilings.

Every level is cut from ONE noded arrangement of lines on a 1e-6° grid, and every
region at every level is the union of faces of that arrangement. So siblings share
their edges vertex for vertex and children tile their parent exactly, after the
coordinates are written with 6 decimals as well as before.

Straight Voronoi edges look like nothing a person ever traced on a basemap, and they
flatter every geometry benchmark (~8 vertices a grid). So once the arrangement is cut,
`wiggle` redraws each shared edge ONCE (densified, bent by noise keyed by its two end
points) and the faces are rebuilt from the redrawn edges: neighbours still share every
vertex, and the county outline (never bent) is still exactly the union of its townships.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon

GRID_SIZE = 1e-6  # degrees: ~0.1 m, the precision of the written files
CENTRE_LONLAT = (102.40, 25.55)  # 武定县
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON = 111.32 * math.cos(math.radians(CENTRE_LONLAT[1]))


def km_to_lonlat(x_km: np.ndarray, y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (CENTRE_LONLAT[0] + x_km / KM_PER_DEG_LON, CENTRE_LONLAT[1] + y_km / KM_PER_DEG_LAT)


def county_outline(rng: np.random.Generator, area_km2: float = 2950.0,
                   spacing_km: float = 0.5) -> Polygon:
    """A north–south elongated outline of about `area_km2`, wiggly down to `spacing_km`.

    Star-shaped around its centre (the radius stays positive), so it is always simple.
    """
    count = int(2 * math.pi * math.sqrt(area_km2 / math.pi) * 1.35 / spacing_km)
    theta = np.linspace(0, 2 * math.pi, max(count, 120), endpoint=False)
    radius = np.ones_like(theta)
    for k, amplitude in ((2, 0.06), (3, 0.07), (5, 0.04), (7, 0.025), (11, 0.012)):
        radius += amplitude * np.sin(k * theta + rng.uniform(0, 2 * math.pi))
    # Valleys and ridges: a rough fractal tail, 0.1 in all, so the radius stays positive.
    harmonics = np.arange(13, 400)
    amplitudes = harmonics ** -1.6
    amplitudes *= 0.1 / amplitudes.sum()
    phases = rng.uniform(0, 2 * math.pi, len(harmonics))
    for start in range(0, len(harmonics), 64):  # in slices: bounded memory at any spacing
        part = slice(start, start + 64)
        radius += (amplitudes[part, None]
                   * np.sin(harmonics[part, None] * theta[None, :] + phases[part, None])).sum(axis=0)
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


def leaves(cell: Cell) -> list[Cell]:
    """The cells with no children (grids, or villages without grids), in a stable order."""
    return [cell] if not cell.children else [leaf for c in cell.children for leaf in leaves(c)]


def wiggle(county: Cell, seed: int, spacing_km: float) -> None:
    """Redraw every shared edge of the cut county once, densified and bent; rebuild the cells.

    Each edge between two junctions is bent by noise seeded with `seed` and its two end
    points, so an edge looks the same whoever computes it. Bends that would cross another
    edge are halved until none does. The county outline is kept as it is.
    """
    tiles = leaves(county)
    outline = county.shape.boundary
    shared = shapely.difference(shapely.union_all([t.shape.boundary for t in tiles],
                                                  grid_size=GRID_SIZE), outline)
    edges = list(shapely.get_parts(shapely.line_merge(shared)))
    edges.sort(key=lambda e: _edge_key(e))
    scale = np.ones(len(edges))
    bent = [_bend(edge, seed, spacing_km, 1.0) for edge in edges]
    for _ in range(6):
        crossing = _crossing(bent, outline)
        if not crossing:
            break
        for i in crossing:
            scale[i] /= 2
            bent[i] = _bend(edges[i], seed, spacing_km, scale[i])
    else:
        for i in _crossing(bent, outline):
            bent[i] = shapely.segmentize(edges[i], spacing_km / KM_PER_DEG_LAT)
    warp = _warp_field(seed)
    noded = shapely.union_all(shapely.transform([*bent, outline], warp), grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    tree = shapely.STRtree(shapely.transform([t.shape for t in tiles], warp))
    for tile in tiles:
        tile.faces = []
    for face in faces:
        candidates = tree.query(face)
        overlap = [face.intersection(tree.geometries[i]).area for i in candidates]
        tiles[int(candidates[int(np.argmax(overlap))])].faces.append(face)
    lost = [t.key for t in tiles if not t.faces]
    if lost:
        raise RuntimeError(f"wiggle lost cells {lost[:5]}: lower the bend")
    _rebuild(county)


def _warp_field(seed: int):
    """A smooth, gentle displacement of the whole county (a few km-long waves, under a km).

    Its slope stays well under 1, so it is a bijection: it bends long boundaries (a
    township's edge runs across many village junctions) without folding anything.
    """
    rng = np.random.default_rng([seed, 7919])
    waves = []
    for wavelength_km, amplitude_km in ((22.0, 0.9), (13.0, 0.45), (7.0, 0.18)):
        for _ in range(2):  # one wave for each axis of displacement
            angle = rng.uniform(0, 2 * math.pi)
            k = 2 * math.pi / wavelength_km * np.array([math.cos(angle), math.sin(angle)])
            waves.append((k, amplitude_km, rng.uniform(0, 2 * math.pi)))

    def warp(lonlat: np.ndarray) -> np.ndarray:
        x_km = (lonlat[:, 0] - CENTRE_LONLAT[0]) * KM_PER_DEG_LON
        y_km = (lonlat[:, 1] - CENTRE_LONLAT[1]) * KM_PER_DEG_LAT
        shift = [np.zeros_like(x_km), np.zeros_like(x_km)]
        for i, (k, amplitude, phase) in enumerate(waves):
            shift[i % 2] += amplitude * np.sin(k[0] * x_km + k[1] * y_km + phase)
        return np.column_stack([lonlat[:, 0] + shift[0] / KM_PER_DEG_LON,
                                lonlat[:, 1] + shift[1] / KM_PER_DEG_LAT])
    return warp


def _edge_key(edge) -> tuple:
    coords = shapely.get_coordinates(edge)
    return tuple(min(tuple(coords[0]), tuple(coords[-1]))) + tuple(max(tuple(coords[0]), tuple(coords[-1])))


def _bend(edge, seed: int, spacing_km: float, strength: float):
    """The edge densified to `spacing_km` and pushed sideways by smooth, fractal noise."""
    coords = shapely.get_coordinates(edge)
    if tuple(coords[-1]) < tuple(coords[0]):  # the same edge read the other way, same result
        coords = coords[::-1]
    key = [int(round(v / GRID_SIZE)) for v in (*coords[0], *coords[-1])]
    rng = np.random.default_rng([seed, *key])
    dense = shapely.get_coordinates(shapely.segmentize(
        shapely.LineString(coords), spacing_km / KM_PER_DEG_LAT))
    xy_km = np.column_stack([(dense[:, 0] - dense[0, 0]) * KM_PER_DEG_LON,
                             (dense[:, 1] - dense[0, 1]) * KM_PER_DEG_LAT])
    steps = np.diff(xy_km, axis=0)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(steps[:, 0], steps[:, 1]))])
    length = along[-1]
    if len(dense) < 3 or length <= 0:
        return shapely.LineString(dense)
    t = along / length
    waves = np.arange(1, max(2, min(40, int(length / spacing_km / 3))) + 1)
    amplitudes = waves ** -1.1 * rng.uniform(0.4, 1.0, len(waves))
    amplitudes *= 0.13 * length * strength / amplitudes.sum()
    phases = rng.uniform(0, 2 * math.pi, len(waves))
    offset_km = (amplitudes[:, None] * np.sin(math.pi * waves[:, None] * t[None, :]
                                              + phases[:, None] * (waves[:, None] > 1))).sum(axis=0)
    offset_km += rng.normal(0, 0.12 * spacing_km * strength, len(t))  # a traced line's tremor
    offset_km *= np.sin(math.pi * t) ** 0.5  # the ends stay on their junctions
    tangent = np.gradient(xy_km, axis=0)
    tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-12)[:, None]
    moved = xy_km + offset_km[:, None] * np.column_stack([-tangent[:, 1], tangent[:, 0]])
    lonlat = np.column_stack([dense[0, 0] + moved[:, 0] / KM_PER_DEG_LON,
                              dense[0, 1] + moved[:, 1] / KM_PER_DEG_LAT])
    lonlat[0], lonlat[-1] = dense[0], dense[-1]
    return shapely.LineString(lonlat)


def _crossing(lines: list, outline) -> list[int]:
    """Indexes of bent edges that cross or touch another edge (or the outline) inside."""
    tree = shapely.STRtree(lines)
    bad = set()
    for i, line in enumerate(lines):
        ends = shapely.MultiPoint([line.coords[0], line.coords[-1]])
        if not line.is_simple or not _only_at(ends, line.intersection(outline)):
            bad.add(i)
        for j in tree.query(line, predicate="intersects"):
            if j > i and not _only_at(ends, line.intersection(lines[j])):
                bad.update((i, j))
    return sorted(bad)


def _only_at(ends, meet) -> bool:
    return meet.is_empty or ends.covers(meet)


def _rebuild(cell: Cell) -> None:
    """Each leaf is the union of its faces; each parent the union of its children."""
    for child in cell.children:
        _rebuild(child)
    parts = cell.faces if not cell.children else [c.shape for c in cell.children]
    merged = shapely.union_all(parts, grid_size=GRID_SIZE)
    cell.shape = merged if isinstance(merged, MultiPolygon) else MultiPolygon([merged])


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
