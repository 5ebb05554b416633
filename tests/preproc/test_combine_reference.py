"""A raw water reference for already-combined data: on the pipeline's scale (issue 20 part 4)."""
import numpy as np

from mrsquant import Spectra
from mrsquant.preproc import preprocess
from mrsquant.preproc.coils import combine_reference


def _coil_data(amplitude, sens, n_dyn, rng, n=1024, dwell=2.5e-4, lw=5.0, ppm_hz=0.0, noise=0.01):
    t = np.arange(n) * dwell
    fid = amplitude * np.exp((2j * np.pi * ppm_hz - np.pi * lw) * t)
    data = sens[:, None, None] * fid[None, None, :] * np.ones((1, n_dyn, 1))
    data = data + noise * (rng.normal(size=data.shape) + 1j * rng.normal(size=data.shape))
    return Spectra(data=data, dims=("coil", "dyn"), dwelltime_s=dwell, spectrometer_frequency_mhz=123.2,
                   te_ms=30.0)


def test_reference_on_its_own_matches_the_pipelines_water():
    rng = np.random.default_rng(3)
    sens = rng.normal(size=4) * np.exp(1j * rng.uniform(0, 2 * np.pi, 4))
    metab = _coil_data(1.0, sens, 16, rng, ppm_hz=-325.0)
    water = _coil_data(500.0, sens, 2, rng)
    _, rec = preprocess(metab, water=water, align=False, reject=False, ecc_correction=False,
                        water_removal=False, phase=False, reference=False)
    alone, _ = combine_reference(water)
    a_pipe, a_alone = abs(rec.water.data[0]), abs(alone.data[0])
    assert a_alone == np.float64(a_alone) and abs(a_alone / a_pipe - 1) < 1e-3
    # the scale is the phased coil sum of one transient: sum |s| x amplitude
    assert abs(a_alone / (500.0 * np.abs(sens).sum()) - 1) < 0.01
    # what a plain mean over coils gives instead: the coil phases cancel
    plain = abs(water.data.mean(axis=(0, 1))[0])
    assert plain < 0.8 * a_alone / len(sens)


def test_reference_on_another_grid_is_refused():
    import pytest

    from mrsquant.errors import InputError

    rng = np.random.default_rng(0)
    sens = np.ones(2, complex)
    metab = _coil_data(1.0, sens, 4, rng)
    longer = _coil_data(500.0, sens, 2, rng, n=2048)
    slower = _coil_data(500.0, sens, 2, rng, dwell=5e-4)
    with pytest.raises(InputError, match="water reference has 2048 points, the data 1024"):
        preprocess(metab, water=longer)
    with pytest.raises(InputError, match="water reference dwell time 500 us differs"):
        preprocess(metab, water=slower)
