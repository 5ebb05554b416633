"""TWIX through the commands: ``preprocess`` reads a .dat directly, its output is the
water reference of ``fit``; ``fit`` sends an MRSI grid to ``maps``.

The data are **in vivo brain** (7T STEAM TE 11 ms, FSL-MRS' example session): the
water reference is the TWIX file ``meas_MID311_STEAM_wref1`` (vendor_raw); its
water-suppressed partner ``meas_MID310`` is not public as TWIX, only as spec2nii's
NIfTI-MRS conversion with 4 of the 32 coils (``nifti_mrs_examples/metab_raw.nii.gz``),
so that file is the metabolite input.
"""
import csv

import numpy as np
import pytest

from mrsquant.cli import main
from mrsquant.io import load, save

STEAM = "vendor_raw/pymapvbvd/tests/test_data/meas_MID311_STEAM_wref1_FID115674.dat"
METAB = "nifti_mrs_examples/tests/test_data/metab_raw.nii.gz"


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def water(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("twix") / "wref.nii.gz"
    assert main(["preprocess", str(shared_data / STEAM), "--no-water-removal", "--no-reference",
                 "-o", str(out)]) == 0
    return out


def test_preprocess_reads_twix_directly(water):
    w = load(water)
    assert w.shape == () and w.n_points == 4096  # 32 coils combined, 2 repetitions averaged
    spec = np.abs(np.fft.fftshift(np.fft.fft(w.data)))
    peak = w.ppm[np.argmax(spec)]
    assert abs(peak - 4.7) < 0.1  # water at the Siemens receiver centre
    # plausible in vivo water line at 7T: FWHM of |spectrum| 5-30 Hz
    half = spec >= spec.max() / 2
    fwhm_hz = half.sum() / (w.n_points * w.dwelltime_s)
    assert 5 < fwhm_hz < 30


def test_fit_with_the_twix_water_reference_gives_brain_values(shared_data, water, tmp_path, monkeypatch):
    monkeypatch.setenv("MRSQUANT_CACHE", str(tmp_path / "cache"))  # basis simulated from the header
    out = tmp_path / "fit"
    assert main(["fit", str(shared_data / METAB), "--water", str(water), "-o", str(out), "--quiet"]) == 0
    qc = rows(out / "qc.tsv")
    assert [r["status"] for r in qc] == ["ok"]
    conc = {r["metabolite"]: r for r in rows(out / "concentrations.tsv")}
    # healthy adult brain, literature ranges (e.g. de Graaf, In Vivo NMR Spectroscopy, Table 2.1;
    # 7T STEAM reports): tNAA 7-17 mM, tCr 4.5-12 mM; ratios to tCr
    assert 6 < float(conc["tNAA"]["conc_mm"]) < 17
    assert 4 < float(conc["tCr"]["conc_mm"]) < 12
    assert 1.0 < float(conc["tNAA"]["ratio_tcr"]) < 2.2
    assert 0.1 < float(conc["tCho"]["ratio_tcr"]) < 0.4
    assert 0.4 < float(conc["mI"]["ratio_tcr"]) < 1.2
    assert float(conc["tNAA"]["crlb_percent"]) < 5


def test_fit_on_an_mrsi_grid_points_to_maps(shared_data, tmp_path, capsys):
    s = load(shared_data / "nifti_mrs_examples/tests/test_data/metab.nii.gz")
    grid = s.replace(data=np.broadcast_to(s.data, (4, 4, 1, s.n_points)).copy(), dims=("x", "y", "z"))
    path = save(grid, tmp_path / "grid.nii.gz")
    assert load(path).shape == (4, 4, 1)
    out = tmp_path / "fit"
    code = main(["fit", str(path), "--basis",
                 str(shared_data / "fitting_challenge_2016/basisset_LCModel/press3T_30ms.BASIS"),
                 "-o", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "`mrsquant maps" in err and "4 x 4 x 1 voxels" in err
    assert not out.exists()
