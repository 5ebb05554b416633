"""Code layout rules of docs/architecture.md, checked on the source tree.

- An import inside a function carries a ``# lazy: startup|heavy|optional`` reason.
- No function in mrsquant/ has more than 80 lines of code (docstring excluded).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "mrsquant"
REASONS = ("startup", "heavy", "optional")
MAX_CODE_LINES = 80


def _functions():
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path, text.splitlines(), node


def _reason(lines, node) -> str | None:
    """The ``# lazy: <reason>`` on any line of a (possibly parenthesised) import."""
    for line in lines[node.lineno - 1:node.end_lineno]:
        if "# lazy:" in line:
            return line.split("# lazy:", 1)[1].strip().split()[0].rstrip(",;")
    return None


def test_function_level_imports_give_a_reason():
    missing, seen = [], set()
    for path, lines, fn in _functions():
        for node in ast.walk(fn):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and (path, node.lineno) not in seen:
                seen.add((path, node.lineno))
                if _reason(lines, node) not in REASONS:
                    missing.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: "
                                   f"{lines[node.lineno - 1].strip()}")
    assert not missing, ("imports inside functions need '# lazy: startup|heavy|optional' "
                         "(docs/architecture.md):\n" + "\n".join(missing))


def _code_lines(lines, fn) -> int:
    body = fn.body
    start = fn.body[0].lineno
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        start = body[0].end_lineno + 1
    segment = lines[start - 1:fn.end_lineno]
    return sum(1 for line in segment if line.strip() and not line.strip().startswith("#"))


def test_no_function_over_80_lines():
    long = [f"{p.relative_to(SRC.parent)}:{fn.lineno} {fn.name}: {n}"
            for p, lines, fn in _functions() if (n := _code_lines(lines, fn)) > MAX_CODE_LINES]
    assert not long, "functions over 80 code lines:\n" + "\n".join(long)


@pytest.mark.parametrize("source, reason", [
    ("def f():\n    import xarray as xr  # lazy: heavy\n", "heavy"),
    ("def f():\n    from .a import (\n        b,  # lazy: startup\n    )\n", "startup"),
    ("def f():\n    import json\n", None),
])
def test_reason_parser(source, reason):
    tree = ast.parse(source)
    node = next(n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
    assert _reason(source.splitlines(), node) == reason
