"""The package's shape: the core imports neither the web nor the command layer, and no cycles.

Core = every module of gridmap/ outside gridmap.web, gridmap.cli and the app factory
(gridmap/__init__.py). Marking and translating messages (flask_babel) is the one allowed
tie to the web stack; gridmap.errors.Message is the way for new core code.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gridmap"
WEB_AND_CLI = ("gridmap.web", "gridmap.cli")
FORBIDDEN = ("flask", "flask_login", "flask_wtf", "werkzeug", "click", *WEB_AND_CLI)
ALLOWED = ("flask_babel",)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Modules `path` imports (anywhere in it, or only at module level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def core_modules() -> dict[str, Path]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    return {name: path for name, path in modules.items()
            if name != "gridmap" and not name.startswith(WEB_AND_CLI)}


def is_forbidden(imported: str) -> bool:
    return (not imported.startswith(ALLOWED)
            and any(imported == f or imported.startswith(f + ".") for f in FORBIDDEN))


def test_core_modules_import_neither_web_nor_command_layer():
    offenders = {name: sorted(i for i in imports(path) if is_forbidden(i))
                 for name, path in core_modules().items()}
    offenders = {name: found for name, found in offenders.items() if found}
    assert not offenders, f"core modules reaching up the layers: {offenders}"


def test_the_check_would_catch_an_offender(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from flask import request\n    import click\n")
    assert {i for i in imports(probe) if is_forbidden(i)} == {"flask", "flask.request", "click"}


def test_no_import_cycles_among_module_level_imports():
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph = {name: {m for m in imports(path, top_level_only=True) if m in modules and m != name}
             for name, path in modules.items()}
    state: dict[str, str] = {}
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for nxt in sorted(graph[name]):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [name, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles
