"""The ordered reader registry and the writer table (filled by the format modules)."""
from __future__ import annotations

READERS: list = []
WRITERS: list = []  # (tuple of lower-case suffixes, function(spectra, path, **kw))


def register_reader(reader, *, before: str | None = None):
    """Add a reader; ``before`` names a reader it must be tried ahead of."""
    if before is not None:
        for i, r in enumerate(READERS):
            if r.name == before:
                READERS.insert(i, reader)
                return reader
    READERS.append(reader)
    return reader


def register_writer(suffixes: tuple[str, ...], func):
    WRITERS.append((tuple(s.lower() for s in suffixes), func))
    return func
