"""Stored photos: one storage for visits, issue reports and every later feature.

    stored = files.attach(session, root, user, "visit", "3f2b…", raw_bytes)   # → StoredFile
    files.readable(session, user, stored.id)                                  # scope-checked
    files.path_of(root, stored, thumbnail=True)

A photo is accepted when its *content* is JPEG, PNG or WebP (Pillow reads it; the file name
and the declared type are not trusted) and it is no larger than the county's
`photo.max_megabytes`. Its EXIF GPS position and time are read, then the picture is decoded
and written again without any metadata (EXIF, XMP, ICC, text chunks: privacy), turned
upright, at most LONG_EDGE pixels on its long side. The stored bytes are named by their
SHA-256 under `root` (GRIDMAP_FILES_DIR, default var/files, which gridmap.backup packs), with
a JPEG thumbnail beside them; nothing is ever written outside `root`. The same picture twice
is stored once.

A file is linked to what it shows (visit_photo, issue_photo) and served only to users whose
scope holds such a visit or issue: anything else is NotFound, never "forbidden". Core: no Flask.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import uuid
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert

from gridmap import settings
from gridmap.errors import BadInput, Conflict, NotFound, TooLarge, _
from gridmap.models import (
    Household,
    Issue,
    IssueEvent,
    IssuePhoto,
    StoredFile,
    Visit,
    VisitPhoto,
)
from gridmap.policy import Scope

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 50_000_000  # a decoded picture larger than this is refused (decompression bombs)
LONG_EDGE = 2560  # stored pictures are scaled down to this long side
THUMB_EDGE = 320
PHOTOS_PER_ROW = 6  # a visit or an issue holds at most this many photos
CHINA_TIME = timezone(timedelta(hours=8))  # EXIF times carry no zone: the county's clock
GPS_IFD, EXIF_IFD, TAKEN = 0x8825, 0x8769, 0x9003  # DateTimeOriginal
OWNERS = ("visit", "issue")


class Picture:
    """An uploaded picture after checking and cleaning: the bytes to store and what EXIF said."""

    def __init__(self, data: bytes, thumbnail: bytes, fmt: str, width: int, height: int,
                 lonlat: tuple[float, float] | None, taken_at: datetime | None):
        self.data, self.thumbnail, self.format = data, thumbnail, fmt
        self.width, self.height, self.lonlat, self.taken_at = width, height, lonlat, taken_at
        self.sha256 = hashlib.sha256(data).hexdigest()

    @property
    def mime(self) -> str:
        """The stored picture's media type."""
        return FORMATS[self.format][0]


def _image_module():
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    return Image, ImageOps


def _rational(value) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _degrees(dms, ref) -> float | None:
    try:
        degrees, minutes, seconds = (_rational(part) for part in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    return -value if str(ref).upper().startswith(("S", "W")) else value


def exif_lonlat(exif) -> tuple[float, float] | None:
    """The GPS position an EXIF block records (lon, lat), None when absent or implausible."""
    gps = exif.get_ifd(GPS_IFD)
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat, lon = _degrees(gps[2], gps.get(1, "N")), _degrees(gps[4], gps.get(3, "E"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return lon, lat


def exif_taken_at(exif) -> datetime | None:
    """When the picture was taken (EXIF DateTimeOriginal, in China time), None when unknown."""
    raw = exif.get_ifd(EXIF_IFD).get(TAKEN) or exif.get(0x0132)  # else DateTime
    try:
        return datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S").replace(
            tzinfo=CHINA_TIME)
    except (TypeError, ValueError):
        return None


def _encode(image, fmt: str) -> bytes:
    """The picture's pixels in `fmt`, with no metadata at all."""
    out = io.BytesIO()
    keep = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
    image.info = keep  # nothing read from the upload (exif, xmp, icc_profile, text) goes back
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True, **keep)
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def clean(data: bytes, max_bytes: int) -> Picture:
    """Check an upload and strip it: a Picture, or BadInput/TooLarge saying what to do."""
    if not data:
        raise BadInput(_("没有收到照片"), field="photo")
    if len(data) > max_bytes:
        raise TooLarge(_("照片太大（%(size)s MB），至多 %(limit)s MB：请调低相机分辨率后重拍",
                         size=round(len(data) / 1_048_576, 1), limit=max_bytes // 1_048_576),
                       field="photo", status=413)
    Image, ImageOps = _image_module()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            if fmt not in FORMATS:
                raise BadInput(_("只接受 JPEG、PNG 或 WebP 照片，这个文件是 %(kind)s",
                                 kind=fmt or "?"), field="photo")
            exif = image.getexif()
            lonlat, taken_at = exif_lonlat(exif), exif_taken_at(exif)
            image = ImageOps.exif_transpose(image)  # upright, as the camera held it
            image.load()
    except BadInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(_("照片像素太多，至多 %(mp)s 百万像素", mp=MAX_PIXELS // 1_000_000),
                       field="photo", status=413) from None
    except Exception:  # Pillow raises many kinds for a broken or foreign file
        raise BadInput(_("无法识别这张照片：只接受 JPEG、PNG 或 WebP"), field="photo") from None
    image.thumbnail((LONG_EDGE, LONG_EDGE))
    stored = _encode(image, fmt)
    thumb = image.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE))
    if thumb.mode not in ("RGB", "L"):
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb.convert("RGBA"), mask=thumb.convert("RGBA").getchannel("A"))
        thumb = background
    return Picture(stored, _encode(thumb, "JPEG"), fmt, image.width, image.height,
                   lonlat, taken_at)


# --- where files live ------------------------------------------------------------------------


def path_of(root: Path, stored: StoredFile | Picture, *, thumbnail: bool = False) -> Path:
    """Where a stored file's bytes (or its thumbnail) live under `root`."""
    sha = stored.sha256
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise BadInput(_("文件名不是内容哈希"), field="sha256")
    mime = stored.mime
    ext = next(e for m, e in FORMATS.values() if m == mime)
    name = (Path("thumbs") / sha[:2] / f"{sha}.jpg") if thumbnail else (Path(sha[:2]) / f"{sha}.{ext}")
    path = (Path(root) / name).resolve()
    if not path.is_relative_to(Path(root).resolve()):
        raise BadInput(_("文件不在存储目录内"), field="sha256")
    return path


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (a temporary file in the same directory, renamed)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o640)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def store(session, root: Path, actor, data: bytes) -> StoredFile:
    """Check, strip and store a photo for `actor`'s county; the same picture again: its row."""
    limit = int(settings.get(session, actor.county_code, "photo.max_megabytes")) * 1_048_576
    picture = clean(data, limit)
    _write(path_of(root, picture), picture.data)
    _write(path_of(root, picture, thumbnail=True), picture.thumbnail)
    point = None if picture.lonlat is None else func.ST_SetSRID(
        func.ST_MakePoint(*picture.lonlat), 4326)
    session.execute(insert(StoredFile).values(
        county_code=actor.county_code, sha256=picture.sha256, mime=picture.mime,
        size_bytes=len(picture.data), width=picture.width, height=picture.height,
        taken_at=picture.taken_at, geom=point, uploaded_by=actor.id,
    ).on_conflict_do_nothing(index_elements=[StoredFile.county_code, StoredFile.sha256]))
    return session.execute(select(StoredFile).where(
        StoredFile.county_code == actor.county_code,
        StoredFile.sha256 == picture.sha256)).scalar_one()


# --- linking and reading ---------------------------------------------------------------------


def _issue(session, actor, issue_ref) -> Issue:
    from gridmap import issues

    ref = str(issue_ref)
    if not ref.isdigit():
        try:
            number = session.execute(select(Issue.id).where(
                Issue.county_code == actor.county_code,
                Issue.client_uuid == uuid.UUID(ref))).scalar()
        except ValueError:
            raise BadInput(_("issue 应是事项编号或其 client_uuid"), field="issue") from None
        if number is None:
            raise NotFound(_("没有这条事项（%(ref)s），或不在您的范围内", ref=ref[:40]), field="issue")
        ref = str(number)
    return issues.get(session, actor, ref)


def attach(session, root: Path, actor, owner: str, ref, data: bytes) -> StoredFile:
    """Store a photo and link it to `actor`'s visit or issue (`owner`; `ref` its id or
    client_uuid, in the actor's scope); the same photo again changes nothing."""
    from gridmap import visits

    if owner == "visit":
        row, link, column = visits.get(session, actor, ref), VisitPhoto, VisitPhoto.visit_id
    elif owner == "issue":
        row, link, column = _issue(session, actor, ref), IssuePhoto, IssuePhoto.issue_id
    else:
        raise BadInput(_("照片只能附在走访或事项上"), field="owner")
    count = session.execute(select(func.count()).where(column == row.id)).scalar()
    stored = store(session, root, actor, data)
    already = session.execute(select(exists().where(
        column == row.id, link.file_id == stored.id))).scalar()
    if not already and count >= PHOTOS_PER_ROW:
        raise Conflict(_("每条记录至多 %(n)s 张照片", n=PHOTOS_PER_ROW), field="photo")
    values = {column.key: row.id, "file_id": stored.id, "county_code": row.county_code,
              "added_by": actor.id}
    if owner == "issue":  # it came with the issue's newest event: the report, 办结, 结案 …
        values["event_id"] = session.scalar(select(func.max(IssueEvent.id)).where(
            IssueEvent.county_code == row.county_code, IssueEvent.issue_id == row.id))
    session.execute(insert(link).values(values).on_conflict_do_nothing())
    return stored


def readable(session, actor, file_id) -> StoredFile:
    """A stored file linked to a visit or an issue in `actor`'s scope; NotFound otherwise."""
    try:
        number = int(file_id)
    except (TypeError, ValueError):
        raise BadInput(_("文件编号应是整数"), field="file") from None
    scope = Scope.of_user(actor)
    seen_on_visit = exists().where(
        VisitPhoto.file_id == StoredFile.id, Visit.id == VisitPhoto.visit_id,
        Household.id == Visit.household_id, Household.county_code == Visit.county_code,
        scope.households())
    seen_on_issue = exists().where(
        IssuePhoto.file_id == StoredFile.id, Issue.id == IssuePhoto.issue_id, scope.issues())
    stored = session.execute(select(StoredFile).where(
        StoredFile.id == number, StoredFile.county_code == actor.county_code,
        seen_on_visit | seen_on_issue)).scalar()
    if stored is None:
        raise NotFound(_("没有编号为 %(id)s 的照片，或不在您的范围内", id=file_id), field="file")
    return stored


def _photos_by(session, county_code: str, link, owner_column, key_column, ids,
               limit: int | None = None) -> dict:
    """Stored files linked through `link` to the rows `ids` (`owner_column`), grouped by
    `key_column`, oldest first."""
    ids, found = list(ids), {}
    if not ids:
        return found
    rows = session.execute(select(key_column, StoredFile)
                           .join(StoredFile, StoredFile.id == link.file_id)
                           .where(link.county_code == county_code, owner_column.in_(ids))
                           .order_by(link.added_at, StoredFile.id).limit(limit))
    for key, stored in rows:
        found.setdefault(key, []).append(stored)
    return found


def visit_photos(session, county_code: str, visit_ids) -> dict[int, list[StoredFile]]:
    """The photos of each of `visit_ids` (visits the caller has already found in scope)."""
    return _photos_by(session, county_code, VisitPhoto, VisitPhoto.visit_id, VisitPhoto.visit_id,
                      visit_ids)


def event_photos(session, county_code: str, issue_ids) -> dict[int | None, list[StoredFile]]:
    """The photos of the issues `issue_ids` (found in scope) by the event they came with
    (None: stored before photos named their event; the timeline shows them with the report)."""
    return _photos_by(session, county_code, IssuePhoto, IssuePhoto.issue_id, IssuePhoto.event_id,
                      issue_ids, limit=600)


def photos_of(session, owner: str, row_id: int) -> list[StoredFile]:
    """The photos linked to a visit or an issue the caller has already found in scope."""
    link, column = ((VisitPhoto, VisitPhoto.visit_id) if owner == "visit"
                    else (IssuePhoto, IssuePhoto.issue_id))
    return list(session.execute(select(StoredFile).join(link, link.file_id == StoredFile.id)
                                .where(column == row_id).order_by(link.added_at)).scalars())
