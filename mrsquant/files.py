"""Writing files so that a failure never leaves a half-written one: the one atomic-write helper.

Every writer in mrsquant writes to a temporary sibling of the target and renames it into
place (``os.replace`` is atomic on one file system), so a reader sees either the old file or
the complete new one, and a crash or a full disk leaves the old file as it was.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_path(folder / "table.tsv") as tmp:
...     _ = tmp.write_text("a\\tb\\n")
>>> (folder / "table.tsv").read_text()
'a\\tb\\n'
>>> try:
...     with atomic_path(folder / "table.tsv") as tmp:
...         _ = tmp.write_text("half")
...         raise OSError("disk full")
... except OSError:
...     pass
>>> (folder / "table.tsv").read_text(), sorted(p.name for p in folder.iterdir())
('a\\tb\\n', ['table.tsv'])
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

#: suffixes kept at the end of a temporary name (nibabel and netCDF engines pick the format from it)
_KEEP = (".nii.gz", ".nii", ".nc", ".pdf", ".tsv", ".json", ".md", ".txt", ".csv")


def _suffix(name: str) -> str:
    low = name.lower()
    return next((name[-len(s):] for s in _KEEP if low.endswith(s)), "")


def mode_from_umask(path) -> None:
    """Give ``path`` the mode a plain ``open()`` would (``mkstemp`` makes files 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The temporary name is unique (``mkstemp``: safe across threads and processes), hidden
    (leading dot) and keeps the target's suffix. The parent folder is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = _suffix(path.name)
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".part{suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        mode_from_umask(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def atomic_folder(path):
    """Yield an empty temporary folder beside ``path``; on success it replaces the folder ``path``
    (an existing one is moved aside first and removed after), on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
