"""Wording stays translatable in the shape texts.i18n relies on, for modules added later too:

- no wording in an f-string or a bare literal inside a texts function (it would never reach
  the catalog): compose with `_("... {x} ...").format(x=...)` or a module-level constant;
- no `"sep".join(items)` over wording in texts/ or handlers/ without `map(str, ...)`: str.join
  reads a constant's English underneath (a Text's translation only appears through str())."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import cast

from texts.i18n import is_wording

ROOT = Path(__file__).resolve().parents[2]
NOT_WORDING_MODULES = {"i18n.py", "catalog.py", "format.py", "api.py", "growth.py", "__init__.py"}


def _texts_files() -> list[Path]:
    return sorted(p for p in (ROOT / "texts").glob("*.py") if p.name not in NOT_WORDING_MODULES)


def _inside_underscore(tree: ast.AST) -> set[int]:
    """ids of string nodes that are the argument of a _() call."""
    marked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
            for arg in node.args:
                marked.update(id(n) for n in ast.walk(arg))
    return marked


def test_no_unmarked_wording_inside_texts_functions() -> None:
    found = []
    for path in _texts_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        marked = _inside_underscore(tree)
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = function.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # the docstring
            for statement in body:
                for node in ast.walk(statement):
                    if id(node) in marked:
                        continue
                    if isinstance(node, ast.JoinedStr):
                        literal = "".join(
                            # An f-string's literal parts are str constants.
                            cast(str, v.value)
                            for v in node.values
                            if isinstance(v, ast.Constant)
                        )
                        if is_wording(literal.strip()) and " " in literal.strip():
                            found.append(f"{path.name}:{node.lineno} f-string {literal!r}")
                    elif (
                        isinstance(node, ast.Constant)
                        and isinstance(node.value, str)
                        and is_wording(node.value)
                        and id(node) not in marked
                        and not any(
                            isinstance(p, ast.JoinedStr)
                            for p in ast.walk(statement)
                            if node in getattr(p, "values", [])
                        )
                    ):
                        found.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert not found, "wording the catalog can't see (wrap it in _()):\n" + "\n".join(found)


def test_joins_over_wording_go_through_str() -> None:
    found = []
    for folder in ("texts", "handlers"):
        for path in sorted((ROOT / folder).glob("*.py")):
            if path.name in {"i18n.py", "catalog.py"}:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "join"
                    and isinstance(node.func.value, ast.Constant)
                    and isinstance(node.func.value.value, str)
                    and len(node.args) == 1
                ):
                    continue
                arg = node.args[0]
                through_str = (
                    isinstance(arg, ast.Call)
                    and isinstance(arg.func, ast.Name)
                    and arg.func.id == "map"
                    and isinstance(arg.args[0], ast.Name)
                    and arg.args[0].id == "str"
                )
                if not through_str:
                    found.append(f"{folder}/{path.name}:{node.lineno}")
    assert not found, "str.join without map(str, ...) would read wording's English:\n" + "\n".join(
        found
    )
