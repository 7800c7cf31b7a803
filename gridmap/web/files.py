"""Photos: attach one to a visit or an issue (`files_api`), and serve them within scope (`files`).

`POST /api/visits/<ref>/photos` and `POST /api/issues/<ref>/photos` take a multipart field
`photo` (the tablet's form and its offline queue send the same); `<ref>` is the row's id or
its client_uuid, so a photo queued behind its visit finds it. `GET /files/<id>` and
`/files/<id>/thumb` answer only when the photo shows a visit or issue in the user's scope.
Thin views over gridmap.files.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from gridmap import files
from gridmap.errors import BadInput
from gridmap.web.errors import accepts_files, answers_with, render_json
from gridmap.web.guard import requires
from gridmap.web.openapi import declare
from gridmap.web.session import db_session

bp = Blueprint("files", __name__)
api_bp = answers_with(Blueprint("files_api", __name__), render_json)

_REF = {"name": "ref", "in": "path", "required": True,
        "schema": {"type": "string", "description": "the row's id or its client_uuid"}}
_PHOTO_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["photo"],
    "properties": {"photo": {"type": "string", "format": "binary"}}}}}}
_STORED = {"description": "the stored photo", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"file": {"type": "object", "properties": {
        "id": {"type": "integer"}, "url": {"type": "string"}, "thumb_url": {"type": "string"},
        "width": {"type": "integer"}, "height": {"type": "integer"}}}}}}}}
_REFUSED = {"description": "not a JPEG/PNG/WebP (422), too large (413), not in scope (404)"}
OPENAPI_PATHS = {
    f"/api/{owner}s/{{ref}}/photos": {"post": {
        "summary": f"Attach a photo to a {owner} (EXIF read, then stripped; stored once)",
        "parameters": [_REF], "requestBody": _PHOTO_BODY,
        "responses": {"201": _STORED, "413": _REFUSED, "422": _REFUSED, "404": _REFUSED}}}
    for owner in files.OWNERS}
declare(api_bp, OPENAPI_PATHS)


def files_root() -> Path:
    """Where this app stores files (GRIDMAP_FILES_DIR)."""
    return Path(current_app.config["GRIDMAP_FILES_DIR"])


def as_dict(stored) -> dict:
    """A stored photo as the JSON answers show it (no hash: the URL is the way in)."""
    return {"id": stored.id, "mime": stored.mime, "width": stored.width, "height": stored.height,
            "url": url_for("files.photo", file_id=stored.id),
            "thumb_url": url_for("files.thumb", file_id=stored.id)}


def _attach(owner: str, ref: str):
    upload = request.files.get("photo")
    if upload is None:
        raise BadInput(_("请附上照片（表单字段 photo）"), field="photo")
    session = db_session()
    stored = files.attach(session, files_root(), current_user, owner, ref, upload.read())
    session.commit()
    return jsonify(file=as_dict(stored)), 201


@api_bp.route("/api/visits/<ref>/photos", methods=["POST"], endpoint="visit_photo")
@accepts_files
@requires("log_visit")
def visit_photo(ref: str):
    """Attach a photo to a visit in scope."""
    return _attach("visit", ref)


@api_bp.route("/api/issues/<ref>/photos", methods=["POST"], endpoint="issue_photo")
@accepts_files
@requires("report_issue")
def issue_photo(ref: str):
    """Attach a photo to an issue in scope."""
    return _attach("issue", ref)


def _send(file_id: int, thumbnail: bool):
    stored = files.readable(db_session(), current_user, file_id)
    path = files.path_of(files_root(), stored, thumbnail=thumbnail)
    response = send_file(path, mimetype="image/jpeg" if thumbnail else stored.mime,
                         max_age=0, conditional=True, etag=True)
    response.headers["Cache-Control"] = "private, max-age=86400"  # content-addressed, personal
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/files/<int:file_id>", endpoint="photo")
@requires("view_map")
def photo(file_id: int):
    """A photo, if it shows a visit or issue in the user's scope (404 otherwise)."""
    return _send(file_id, thumbnail=False)


@bp.route("/files/<int:file_id>/thumb", endpoint="thumb")
@requires("view_map")
def thumb(file_id: int):
    """A photo's thumbnail (JPEG, at most 320 px), within scope as the photo."""
    return _send(file_id, thumbnail=True)
