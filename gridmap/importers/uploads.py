"""Files uploaded for an import, kept between its dry run and its commit. Core: no web.

Each upload lives in a directory of its own with a random name under the uploads root
(`var/uploads`, or $GRIDMAP_UPLOADS_DIR), readable only by the server. Nothing is written
outside it: a file's name is reduced to a plain, known name (a name with a path, `..`, a
control character or an unknown suffix is refused, never cleaned up into something else);
a zipped shapefile stays zipped (GDAL reads it in place); any other zip is unpacked member
by member under the same rules, its unpacked size bounded. Uploads older than `TTL` are
removed whenever another is stored, and refused when asked for.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from gridmap import clock
from gridmap.errors import BadInput, NotFound, TooLarge, _
from gridmap.importers import fields

UPLOADS_ENV = "GRIDMAP_UPLOADS_DIR"
UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
TTL = timedelta(hours=24)
CHUNK = 1 << 20
MAX_FILES = 20
NAME = re.compile(r"[^/\\\x00-\x1f\x7f:*?\"<>|]{1,120}")
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml")


def uploads_dir() -> Path:
    """Where uploads are kept: $GRIDMAP_UPLOADS_DIR, else var/uploads."""
    from gridmap import devdb

    return Path(os.environ.get(UPLOADS_ENV) or devdb.var_dir() / "uploads")


def _suffixes() -> set[str]:
    from gridmap.importers import readers

    return set(readers.READERS)


def safe_name(name: str, what=None) -> str:
    """`name` when it is a plain file name of a format the importer reads; else BadInput
    naming it (`what`: how the message calls it, e.g. a zip member)."""
    shown = fields.readable(name[:120])
    label = what or _("文件名")
    if not NAME.fullmatch(name or "") or name.strip(". ") == "" or name.startswith(".") or ".." in name:
        raise BadInput(_("%(what)s %(name)s 不安全（含路径、“..” 或控制字符）", what=label, name=shown),
                       field="files")
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in _suffixes():
        raise BadInput(_("%(what)s %(name)s 不是可导入的格式（%(formats)s）", what=label, name=shown,
                         formats=", ".join(sorted(_suffixes()))), field="files")
    return name


@dataclass(frozen=True)
class Upload:
    """One stored upload: its id (the directory's random name), directory and what was asked."""

    id: str
    directory: Path
    meta: dict

    @property
    def files(self) -> list[Path]:
        """The stored files, in upload order."""
        return [self.directory / name for name in self.meta["files"]]

    def sources(self):
        """The files as the import core reads them, with the table, layer and CRS asked for."""
        from gridmap.importers.sources import Source

        return [Source.from_path(path, table=self.meta.get("table") or None,
                                 layer=self.meta.get("layer") or None, crs=self.meta.get("crs") or "auto",
                                 encoding="auto") for path in self.files]

    def save_report(self, report: dict) -> None:
        """Keep the dry run's report beside the files (the page shows it again)."""
        (self.directory / "report.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")

    def report(self) -> dict | None:
        """The dry run's report, if one was kept."""
        path = self.directory / "report.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def remove(self) -> None:
        """Delete the upload and its files."""
        shutil.rmtree(self.directory, ignore_errors=True)


def store(root: Path, files: Iterable[tuple[str, BinaryIO]], *, county_code: str, user_id: int,
          max_bytes: int, table: str | None = None, crs: str = "auto", layer: str | None = None,
          now: datetime | None = None) -> Upload:
    """Keep `files` ((name, stream) pairs) in a new upload directory under `root`; BadInput or
    TooLarge (nothing kept) when a name, member or size breaks the rules above."""
    now = now or clock.now()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    cleanup(root, now)
    upload_id = secrets.token_hex(16)
    directory = root / upload_id
    directory.mkdir(mode=0o700)
    try:
        names: list[str] = []
        budget = _Budget(max_bytes)
        for name, stream in files:
            if len(names) >= MAX_FILES:
                raise BadInput(_("一次最多上传 %(count)s 个文件", count=MAX_FILES), field="files")
            names += _keep(directory, safe_name(name), stream, budget, names)
        if not names:
            raise BadInput(_("请选择要导入的文件"), field="files")
        meta = {"county_code": county_code, "user_id": user_id, "table": table or "", "crs": crs or "auto",
                "layer": layer or "", "created_at": now.isoformat(), "files": names}
        (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return Upload(upload_id, directory, meta)


def _inside(directory: Path, name: str) -> Path:
    """The path of `name` in `directory`, checked to be there (belt and braces)."""
    path = (directory / name).resolve()
    if path.parent != directory.resolve():
        raise BadInput(_("文件名 %(name)s 不安全", name=fields.readable(name)), field="files")
    return path


def _keep(directory: Path, name: str, stream: BinaryIO, budget: _Budget, names: list[str]) -> list[str]:
    """Write one uploaded file (a zip of several files unpacked); the names kept."""
    if name in names:
        raise BadInput(_("文件 %(name)s 上传了两次", name=fields.readable(name)), field="files")
    path = _inside(directory, name)
    with path.open("xb") as out:
        _copy(stream, out, budget)
    if not name.lower().endswith(".zip"):
        return [name]
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if any(m.filename.lower().endswith((".shp", ".gpkg", ".kml")) for m in members):
                for member in members:  # checked, but left packed: GDAL reads the zip as it is
                    _member_name(member.filename)
                return [name]
            kept = []
            for member in members:
                inner = _member_name(member.filename)
                if member.file_size > budget.left:  # said before unpacking; _copy counts what really comes
                    budget.spend(member.file_size)
                if inner in names or inner in kept:
                    raise BadInput(_("文件 %(name)s 出现了两次", name=fields.readable(inner)), field="files")
                with archive.open(member) as source, _inside(directory, inner).open("xb") as out:
                    _copy(source, out, budget)
                kept.append(inner)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise BadInput(_("压缩包 %(name)s 已损坏或无法解开（%(reason)s）", name=fields.readable(name),
                         reason=str(exc)[:100]), field="files") from exc
    path.unlink()
    if not kept:
        raise BadInput(_("压缩包 %(name)s 里没有可导入的文件", name=fields.readable(name)), field="files")
    return kept


def _member_name(member: str) -> str:
    """A zip member's file name: a plain name in the zip's top folder or one folder down
    (how people zip a folder); a path leaving the folder, absolute, or odd: BadInput."""
    parts = member.replace("\\", "/").split("/")
    if member.startswith(("/", "\\")) or ".." in parts or len(parts) > 2 or ":" in member:
        raise BadInput(_("压缩包成员 %(name)s 的路径不安全", name=fields.readable(member[:120])), field="files")
    name = parts[-1]
    if name.lower().endswith(SHAPEFILE_PARTS):
        return name
    return safe_name(name, _("压缩包成员"))


class _Budget:
    """The bytes an upload may still write (unpacked zips included)."""

    def __init__(self, limit: int):
        self.limit = self.left = limit

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise TooLarge(_("上传的文件（解压后）超过上限 %(limit)s", limit=megabytes(self.limit)), field="files")


def megabytes(size: int) -> str:
    """A byte count as people read a limit: `32 MB`."""
    return f"{size / (1 << 20):.0f} MB" if size >= 1 << 20 else f"{size / 1024:.0f} KB"


def _copy(source: BinaryIO, out: BinaryIO, budget: _Budget) -> None:
    """Copy in chunks, refusing (TooLarge) once the upload's bytes pass the limit."""
    while chunk := source.read(CHUNK):
        budget.spend(len(chunk))
        out.write(chunk)


def load(root: Path, upload_id: str, *, county_code: str, user_id: int, now: datetime | None = None) -> Upload:
    """The upload `upload_id` of this user, or NotFound (unknown, another's, or expired: removed)."""
    gone = NotFound(_("没有这次上传（可能已过期，上传保留 %(hours)s 小时）：请重新上传", hours=int(TTL.total_seconds() // 3600)),
                    field="upload")
    if not UPLOAD_ID.fullmatch(upload_id or ""):
        raise gone
    directory = root / upload_id
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise gone from None
    if meta.get("county_code") != county_code or meta.get("user_id") != user_id:
        raise gone
    if _expired(meta, now or clock.now()):
        shutil.rmtree(directory, ignore_errors=True)
        raise gone
    return Upload(upload_id, directory, meta)


def _expired(meta: dict, now: datetime) -> bool:
    try:
        return now - datetime.fromisoformat(meta["created_at"]) > TTL
    except (KeyError, TypeError, ValueError):
        return True


def cleanup(root: Path, now: datetime | None = None) -> int:
    """Remove uploads older than `TTL` (and directories without a readable meta.json older
    than that); how many were removed."""
    now = now or clock.now()
    removed = 0
    if not root.is_dir():
        return 0
    for directory in root.iterdir():
        if not directory.is_dir() or not UPLOAD_ID.fullmatch(directory.name):
            continue
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            made = datetime.fromtimestamp(directory.stat().st_mtime, tz=now.tzinfo)
            meta = {"created_at": made.isoformat()}
        if _expired(meta, now):
            shutil.rmtree(directory, ignore_errors=True)
            removed += 1
    return removed
