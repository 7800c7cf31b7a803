"""What an import says back: problems a person can act on, counts, notes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
    where: str = ""  # `第 12 行` / `要素 #3 (code=…)` / "" for the whole file
    field: str = ""
    problem: str = ""
    hint: str = ""

    def __str__(self) -> str:
        place = ", ".join(p for p in (
            f"{self.source} {self.where}".strip(), f"字段 {self.field}" if self.field else "") if p)
        return f"{place}: {self.problem}" + (f"；{self.hint}" if self.hint else "")


@dataclass
class TableCounts:
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
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    max_errors: int = 100

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def committed(self) -> bool:
        return self.commit and self.ok

    @property
    def full(self) -> bool:
        return len(self.problems) >= self.max_errors

    def add(self, problem: Problem) -> None:
        if self.full:
            self.problems_left_off += 1
        else:
            self.problems.append(problem)

    def counts(self, table: str) -> TableCounts:
        return next(t for t in self.tables if t.table == table)

    def as_dict(self) -> dict:
        return {"county_code": self.county_code, "commit": self.commit, "committed": self.committed,
                "ok": self.ok, "tables": [asdict(t) for t in self.tables],
                "problems": [dict(asdict(p), message=str(p)) for p in self.problems],
                "problems_left_off": self.problems_left_off, "notes": self.notes,
                "seconds": round(self.seconds, 3)}

    def to_text(self) -> str:
        """The report as a person reads it on a terminal (Chinese first)."""
        verb = ("已写入" if self.committed else "未写入（出错，全部回滚）") if self.commit \
            else "试运行（未写入；加 --commit 写入）"
        lines = [f"导入 {self.county_code}: {verb}，用时 {self.seconds:.1f} s"]
        would = "" if self.committed else "将"
        for t in self.tables:
            lines.append(f"  {t.source:<22} {t.table:<13} {t.rows:>7} 行  {would}新增 {t.inserted:>7}"
                         f"  {would}更新 {t.updated:>7}  不变 {t.unchanged:>7}")
        lines += [f"  注: {note}" for note in self.notes]
        if self.problems:
            lines.append(f"问题 {len(self.problems) + self.problems_left_off} 个"
                         + (f"（只列出前 {len(self.problems)} 个）" if self.problems_left_off else "") + ":")
            lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)
