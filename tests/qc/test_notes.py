"""Reliability notes printed beside the numbers (qc/notes.py)."""
import json

import numpy as np
import xarray as xr

from mrsquant.qc.notes import reliability_notes


def _ds(te_ms, sequence, influence, priors=None):
    mets = ["NAA", "GABA", "Gln"]
    ds = xr.Dataset({"prior_influence": (("spectrum", "metabolite"), np.array([influence]))},
                    coords={"spectrum": ["s"], "metabolite": mets})
    ds.attrs.update(te_ms=te_ms, basis_sequence=sequence, model_options=json.dumps({"priors": priors}))
    return ds


def test_unedited_short_te_gaba_is_called_unmeasurable():
    notes = reliability_notes(_ds(30.0, "press", [0, 0, 0]), 0)
    assert len(notes) == 1 and "GABA" in notes[0] and "MEGA-PRESS" in notes[0]


def test_edited_or_long_te_data_get_no_gaba_note():
    assert reliability_notes(_ds(68.0, "mega-press", [0, 0, 0]), 0) == []
    assert reliability_notes(_ds(144.0, "press", [0, 0, 0]), 0) == []


def test_prior_dominated_estimates_are_named_with_their_influence():
    notes = reliability_notes(_ds(68.0, "mega-press", [0.1, 0.8, 0.55], priors="literature"), 0)
    assert any("prior-dominated: GABA 0.80, Gln 0.55" in n for n in notes)
    assert any("priors on (literature)" in n for n in notes)
