"""Copy the front-end files the pages use from node_modules/ into static/vendor/.

`make setup` runs `npm ci` (exact versions from package-lock.json) and then this script.
Nothing is fetched from a CDN at run time: tablets on a county intranet must open the map
with no outside network. Images and fonts keep their place beside the css that points at
them (`images/`, `../webfonts/`).

    python scripts/vendor.py [--node-modules DIR] [--dest DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (package, path inside the package, path under static/vendor). A directory copies whole.
COPIES = [
    ("leaflet", "dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet", "dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet", "dist/images", "leaflet/images"),
    ("leaflet", "LICENSE", "leaflet/LICENSE"),
    ("jquery", "dist/jquery.min.js", "jquery/jquery.min.js"),
    ("jquery", "LICENSE.txt", "jquery/LICENSE.txt"),
    ("bootstrap", "dist/js/bootstrap.bundle.min.js", "bootstrap/js/bootstrap.bundle.min.js"),
    ("bootstrap", "dist/css/bootstrap.min.css", "bootstrap/css/bootstrap.min.css"),
    ("bootstrap", "LICENSE", "bootstrap/LICENSE"),
    ("@fortawesome/fontawesome-free", "css/all.min.css", "fontawesome/css/all.min.css"),
    ("@fortawesome/fontawesome-free", "webfonts", "fontawesome/webfonts"),
    ("@fortawesome/fontawesome-free", "LICENSE.txt", "fontawesome/LICENSE.txt"),
    ("leaflet.awesome-markers", "dist/leaflet.awesome-markers.js",
     "awesome-markers/leaflet.awesome-markers.js"),
    ("leaflet.awesome-markers", "dist/leaflet.awesome-markers.css",
     "awesome-markers/leaflet.awesome-markers.css"),
    ("leaflet.awesome-markers", "dist/images", "awesome-markers/images"),
    ("leaflet.awesome-markers", "LICENSE", "awesome-markers/LICENSE"),
    ("leaflet.markercluster", "dist/leaflet.markercluster.js",
     "markercluster/leaflet.markercluster.js"),
    ("leaflet.markercluster", "dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
    ("leaflet.markercluster", "dist/MarkerCluster.Default.css",
     "markercluster/MarkerCluster.Default.css"),
    ("leaflet.markercluster", "MIT-LICENCE.txt", "markercluster/MIT-LICENCE.txt"),
    ("leaflet.heat", "dist/leaflet-heat.js", "leaflet-heat/leaflet-heat.js"),
    ("leaflet.heat", "LICENSE", "leaflet-heat/LICENSE"),
    # drawing and editing grids on the map (upkeep: 画网格、拆分、合并、调整公共边); icons are inline
    ("@geoman-io/leaflet-geoman-free", "dist/leaflet-geoman.js", "geoman/leaflet-geoman.js"),
    ("@geoman-io/leaflet-geoman-free", "dist/leaflet-geoman.css", "geoman/leaflet-geoman.css"),
    ("@geoman-io/leaflet-geoman-free", "LICENSE", "geoman/LICENSE"),
    # the accessibility checks of the browser tests (WCAG AA contrast), from our own origin
    ("axe-core", "axe.min.js", "axe-core/axe.min.js"),
    ("axe-core", "LICENSE", "axe-core/LICENSE"),
]


class VendorError(RuntimeError):
    pass


def _installed_version(node_modules: Path, package: str) -> str:
    manifest = node_modules / package / "package.json"
    if not manifest.exists():
        raise VendorError(f"{package} is not in {node_modules}: run `npm ci` first")
    return json.loads(manifest.read_text())["version"]


def _wanted_versions() -> dict[str, str]:
    return json.loads((ROOT / "package.json").read_text())["dependencies"]


def vendor(node_modules: Path, dest: Path) -> list[Path]:
    """Copy COPIES into `dest` (replacing it); return the files written."""
    wanted = _wanted_versions()
    for package, version in wanted.items():
        found = _installed_version(node_modules, package)
        if found != version:
            raise VendorError(f"{package} {found} is installed, package.json pins {version}: "
                              "run `npm ci`")
    staging = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    written = []
    for package, source, target in COPIES:
        src, dst = node_modules / package / source, staging / target
        if not src.exists():
            raise VendorError(f"{src} is missing: is the pinned version of {package} installed?")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
            written.extend(dest / target / p.relative_to(dst) for p in dst.rglob("*") if p.is_file())
        else:
            shutil.copy2(src, dst)
            written.append(dest / target)
    # Swap in one step, so a failed run never leaves a half-filled vendor directory.
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return written


def check_referenced(dest: Path) -> None:
    """Every file the map pages link to must have been copied."""
    sys.path.insert(0, str(ROOT))
    from gridmap.maps.assets import referenced_vendor_files

    missing = [p for p in referenced_vendor_files() if not (dest / p).is_file()]
    if missing:
        raise VendorError(f"pages link to files vendor.py did not copy: {missing}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    parser.add_argument("--dest", type=Path, default=ROOT / "static" / "vendor")
    args = parser.parse_args(argv)
    try:
        written = vendor(args.node_modules, args.dest)
        check_referenced(args.dest)
    except VendorError as exc:
        print(f"vendor.py: {exc}", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in written)
    print(f"vendor.py: {len(written)} files, {size / 1e6:.1f} MB in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
