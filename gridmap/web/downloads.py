"""Downloads: a CSV/XLSX export as a Flask response (the writer is gridmap.exports.tabular)."""

from __future__ import annotations

from flask import Response

from gridmap.exports.tabular import FORMATS, content_disposition, render, safe_filename


def download(fmt: str, stem: str, columns, rows) -> Response:
    """A response downloading `rows` as `stem`.csv or `stem`.xlsx."""
    body = render(fmt, columns, rows)
    response = Response(body, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = content_disposition(safe_filename(stem, fmt))
    response.headers["Cache-Control"] = "no-store"  # exports may hold personal data
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
