"""What an import says back: problems a person can act on, counts, notes.

Texts are `gridmap.errors` Messages (zh-CN msgids) or plain str (already in the reader's
language, e.g. a file name); `str()` gives Chinese, `translate=gettext` another language.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from gridmap.errors import Message, _

Text = Message | str
SHAPE_KINDS = ("overlap", "gap", "outside", "household_outside")
MAX_SHAPES = 2_000  # shapes a report's map draws; the rest are counted
Translate = Callable[[str], str]


def render(text: Text, translate: Translate | None = None) -> str:
    """`text` in the language `translate` gives (Chinese without one)."""
    if isinstance(text, Message) and translate is not None:
        return text.translate(translate)
    return str(text)


@dataclass(frozen=True)
class Limits:
    """Guards against hostile or mistaken files; the web upload may pass tighter ones."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000
    max_cell_chars: int = 2_000
    max_errors: int = 100


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file: where, which field, what, and what to do."""

    source: str
    where: Text = ""  # `第 12 行` / `要素 #3 (code=…)` / "" for the whole file
    field: str = ""
    problem: Text = ""
    hint: Text = ""

    def message(self) -> Message:
        """The whole problem as one message: place, field, what, what to do."""
        # Layout without words is a Message outside the catalog: every language keeps it.
        place = Message("%(source)s %(where)s", source=self.source, where=self.where) \
            if self.where else self.source
        if self.field:
            place = _("%(place)s, 字段 %(field)s", place=place, field=self.field)
        if self.hint:
            return _("%(place)s: %(problem)s；%(hint)s", place=place, problem=self.problem, hint=self.hint)
        return Message("%(place)s: %(problem)s", place=place, problem=self.problem)

    def text(self, translate: Translate | None = None) -> str:
        """The problem as one line, in the language `translate` gives (zh-CN without it)."""
        return render(self.message(), translate)

    def __str__(self) -> str:
        return self.text()

    def as_dict(self, translate: Translate | None = None) -> dict:
        """The problem as plain JSON-able strings."""
        return {"source": self.source, "where": render(self.where, translate), "field": self.field,
                "problem": render(self.problem, translate), "hint": render(self.hint, translate),
                "message": self.text(translate)}


@dataclass
class TableCounts:
    """What one file did to its table: rows read, inserted, updated, unchanged."""
    table: str
    source: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """The outcome of one import, dry run or commit. `ok` means no problems at all."""

    county_code: str
    commit: bool
    tables: list[TableCounts] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problems_left_off: int = 0
    notes: list[Text] = field(default_factory=list)
    seconds: float = 0.0
    max_errors: int = 100
    # Where the problems are, for a map: (kind, GeoJSON geometry text, label); kinds in SHAPE_KINDS.
    shapes: list[tuple[str, str, Text]] = field(default_factory=list)
    shapes_left_off: int = 0

    @property
    def ok(self) -> bool:
        """No problems at all."""
        return not self.problems

    @property
    def committed(self) -> bool:
        """A commit was asked for and nothing stood in its way."""
        return self.commit and self.ok

    @property
    def full(self) -> bool:
        """Enough problems collected: the rest are only counted."""
        return len(self.problems) >= self.max_errors

    def add(self, problem: Problem) -> None:
        """Collect `problem` (or count it, once the report is full)."""
        if self.full:
            self.problems_left_off += 1
        else:
            self.problems.append(problem)

    def mark(self, kind: str, geojson: str, label: Text) -> None:
        """Keep where a problem lies (`kind`: overlap, gap, outside, household_outside) for
        the report's map, up to `MAX_SHAPES` (the rest counted)."""
        if kind not in SHAPE_KINDS:
            raise ValueError(f"unknown shape kind {kind!r}")
        if len(self.shapes) >= MAX_SHAPES:
            self.shapes_left_off += 1
        else:
            self.shapes.append((kind, geojson, label))

    def features(self, translate: Translate | None = None) -> dict:
        """The marked shapes as a GeoJSON FeatureCollection (labels in `translate`'s language)."""
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": json.loads(geometry),
             "properties": {"kind": kind, "label": render(label, translate)}}
            for kind, geometry, label in self.shapes]}

    def note(self, source: str, note: Text) -> None:
        """Something a person should know about `source` that is not a problem."""
        self.notes.append(Message("%(source)s: %(note)s", source=source, note=note))

    def counts(self, table: str) -> TableCounts:
        """The counts of `table`'s file."""
        return next(t for t in self.tables if t.table == table)

    def as_dict(self, translate: Translate | None = None) -> dict:
        """The report as JSON-ready plain values, texts in `translate`'s language (Chinese without)."""
        return {"county_code": self.county_code, "commit": self.commit, "committed": self.committed,
                "ok": self.ok, "tables": [asdict(t) for t in self.tables],
                "problems": [p.as_dict(translate) for p in self.problems],
                "problems_left_off": self.problems_left_off,
                "notes": [render(note, translate) for note in self.notes],
                "seconds": round(self.seconds, 3), "shapes": self.features(translate),
                "shapes_left_off": self.shapes_left_off}

    def to_text(self, translate: Translate | None = None) -> str:
        """The report as a person reads it on a terminal (Chinese unless `translate` is given)."""
        return "\n".join(indent + render(line, translate) for indent, line in self._lines())

    def _lines(self) -> list[tuple[str, Text]]:
        if not self.commit:
            outcome = _("试运行（未写入）")
        else:
            outcome = _("已写入") if self.committed else _("未写入（出错，全部回滚）")
        lines: list[tuple[str, Text]] = [("", _("导入 %(county)s: %(outcome)s，用时 %(seconds)s s",
                                                county=self.county_code, outcome=outcome,
                                                seconds=f"{self.seconds:.1f}"))]
        for t in self.tables:
            cells = {"source": f"{t.source:<22}", "table": f"{t.table:<13}", "rows": f"{t.rows:>7}",
                     "inserted": f"{t.inserted:>7}", "updated": f"{t.updated:>7}",
                     "unchanged": f"{t.unchanged:>7}"}
            lines.append(("  ", _("%(source)s %(table)s %(rows)s 行  新增 %(inserted)s  更新 %(updated)s"
                                  "  不变 %(unchanged)s", **cells) if self.committed else
                          _("%(source)s %(table)s %(rows)s 行  将新增 %(inserted)s  将更新 %(updated)s"
                            "  不变 %(unchanged)s", **cells)))
        lines += [("  ", _("注: %(note)s", note=note)) for note in self.notes]
        if self.problems:
            total = len(self.problems) + self.problems_left_off
            lines.append(("", _("问题 %(total)s 个（只列出前 %(shown)s 个）:", total=total,
                                shown=len(self.problems)) if self.problems_left_off
                          else _("问题 %(total)s 个:", total=total)))
            lines += [("  - ", p.message()) for p in self.problems]
        return lines
