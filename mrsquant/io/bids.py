"""BIDS file names: the entities (``sub``, ``ses``, ``acq``, ...) of a file stem.

Light on purpose (stdlib only): the fit (``fit --t1`` pairing), the exports and the
longitudinal module all read entities, and none should pay for the others' imports.
"""
from __future__ import annotations

import re
from pathlib import Path


def parse_entities(name: str) -> dict:
    """BIDS entities of a file stem: ``sub-01_ses-pre_acq-press_svs`` -> {sub: 01, ses: pre, acq: press}.

    Examples
    --------
    >>> parse_entities("sub-01_ses-pre_svs")
    {'sub': '01', 'ses': 'pre'}
    """
    stem = Path(str(name)).name
    for ext in (".nii.gz", ".nii", ".tsv"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
    return {k: v for k, v in re.findall(r"(?:^|_)([a-zA-Z0-9]+)-([a-zA-Z0-9]+)", stem)}
