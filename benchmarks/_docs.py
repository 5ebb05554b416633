"""Shared by the benchmark scripts: write one result section of docs/benchmarks.md."""
from __future__ import annotations

import os
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(name: str, text: str, doc: Path = DOC) -> None:
    """Put ``text`` between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``doc``.

    The block replaces the previous one (a rerun does not add a second copy); it is
    appended when the markers are absent. Written atomically (temporary file + rename).
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.strip(chr(10))}\n{end}"
    old = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if start in old and end in old:
        new = old[:old.index(start)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    tmp = doc.with_name(f".{doc.name}.part{os.getpid()}")
    tmp.write_text(new)
    os.replace(tmp, doc)
