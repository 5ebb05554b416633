"""A single spectrum off its ppm reference by more than the fit's own search is moved onto
the NAA/Cr/Cho pattern before the fit (a room-temperature phantom: 0.17 ppm; issue 20 part 4)."""
import numpy as np
import pytest

from mrsquant.app.pipeline import fit_files


def test_misreferenced_single_spectrum_fitted_like_the_original(challenge, tmp_path):
    src = challenge / "datasets_text" / "dataset1.txt"
    a = np.loadtxt(src)
    fid = a[:, 0] + 1j * a[:, 1]
    t = np.arange(len(fid)) / 4000.0
    off = 0.3                                   # ppm, beyond the fit's +-0.25 ppm shift bound
    moved = fid * np.exp(-2j * np.pi * off * 123.2 * t)
    a[:, 0], a[:, 1] = moved.real, moved.imag
    np.savetxt(tmp_path / "shifted.txt", a)
    basis = challenge / "basisset_text_noTMS"
    ref = fit_files([src], basis, outdir=tmp_path / "a", progress=False)["dataset"]
    out = fit_files([tmp_path / "shifted.txt"], basis, outdir=tmp_path / "b", progress=False)["dataset"]
    for m in ("tNAA", "tCho", "Glu"):
        r0 = float(ref["ratio_tcr"].sel(metabolite=m)[0])
        assert float(out["ratio_tcr"].sel(metabolite=m)[0]) == pytest.approx(r0, rel=0.03), m
    assert "at bounds" not in str(out["status"].values[0])
    steps = str(out.attrs["preprocessing"])
    assert "moved by -0.3" in steps
