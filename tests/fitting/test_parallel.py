"""Parallel batch (issue 21): chunks in forked processes, or threads inside a daemon process
(a dask worker cannot fork); every result array identical to the serial path."""
import multiprocessing as mp
import multiprocessing.pool
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from mrsquant.fitting import FitModel
from mrsquant.fitting import model as model_module
from mrsquant.fitting.synthetic import singlet_basis, singlet_spectra

TRUTH = np.array([[10.0, 8.0, 2.0], [5.0, 8.0, 3.0], [12.0, 6.0, 1.0], [3.0, 9.0, 2.5], [7.0, 7.0, 1.5]])


@pytest.fixture(scope="module")
def case():
    basis = singlet_basis()
    spectra = singlet_spectra(TRUTH, noise_sd=0.05, seed=3, basis=basis)
    model = FitModel(basis, chunk_size=2)              # 3 chunks
    return model, spectra, model.fit(spectra, jobs=1)


def _same(a, b):
    assert a.status == b.status
    for key, value in a.arrays.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, b.arrays[key], err_msg=key)


def test_forked_workers_give_the_serial_result(case):
    model, spectra, serial = case
    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork on this platform")
    with model_module._chunk_pool(2) as pool:
        assert isinstance(pool, mp.pool.Pool)
    done = []
    _same(serial, model.fit(spectra, jobs=2, progress=done.append))
    assert done == [2, 4, 5] and model_module._FORKED is None     # progress in order; nothing held


def test_daemon_process_uses_threads_and_gives_the_serial_result(case, monkeypatch):
    model, spectra, serial = case
    monkeypatch.setattr(mp.current_process(), "daemon", True, raising=False)
    pool = model_module._chunk_pool(2)
    assert isinstance(pool, ThreadPoolExecutor)
    pool.shutdown()
    _same(serial, model.fit(spectra, jobs=2))
