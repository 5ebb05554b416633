"""dask.distributed path: same numbers as in-process, failed chunks retried or reported."""
import threading

import numpy as np
import pytest

import mrsquant as mq
from mrsquant.app import distributed as dist
from mrsquant.app.distributed import chunk_bounds, fit_distributed
from mrsquant.basis.io import load_basis
from mrsquant.errors import MRSQuantError
from mrsquant.fitting import FitModel
from mrsquant.fitting.synthetic import challenge_like

distributed = pytest.importorskip("distributed")

N_SPECTRA = 20


@pytest.fixture(scope="module")
def basis(challenge):
    return load_basis(challenge / "basisset_text_noTMS")


@pytest.fixture(scope="module")
def spectra(challenge):
    src = [mq.load(challenge / "datasets_text" / f"dataset{i}.txt") for i in range(1, 11)]
    s = src[0].replace(data=np.stack([x.data for x in src]), dims=("spectrum",))
    return challenge_like(s, N_SPECTRA, seed=8)


@pytest.fixture(scope="module")
def in_process(basis, spectra):
    model = FitModel(basis)
    return model, model.fit(spectra)


@pytest.fixture(scope="module")
def thread_client():
    """Two single-threaded workers inside this process (monkeypatching reaches them)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def _rel_close(a, b, rtol=1e-6):
    """Amplitudes equal to ``rtol`` relative to each spectrum's largest amplitude."""
    scale = np.abs(b).max(axis=1, keepdims=True)
    return np.all(np.abs(a - b) <= rtol * scale)


def test_chunk_bounds_cover_everything():
    assert chunk_bounds(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert chunk_bounds(6, 3) == [(0, 3), (3, 6)]
    with pytest.raises(ValueError):
        chunk_bounds(5, 0)


def test_process_cluster_equals_in_process(basis, spectra, in_process, capsys):
    """Two worker processes, chunks of 6 (in-process used one chunk of 20): same fit."""
    model, ref = in_process
    ticks = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        res = fit_distributed(FitModel(basis), spectra, scheduler=cluster.scheduler_address,
                              chunk_size=6, progress=ticks.append)
    assert _rel_close(res.arrays["amplitude"], ref.arrays["amplitude"])
    assert np.allclose(res.arrays["theta"], ref.arrays["theta"], rtol=1e-5, atol=1e-6)
    assert np.allclose(res.crlb_abs, ref.crlb_abs, rtol=1e-5, atol=1e-9 * np.abs(ref.amplitude).max())
    assert res.names == ref.names and res.metabolites == ref.metabolites
    assert res.status == ["ok"] * N_SPECTRA and res.failed_chunks == []
    assert sorted(ticks) == ticks and ticks[-1] == N_SPECTRA and len(ticks) == 4
    # dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers: we say that it slows the fit
    assert "MALLOC_TRIM_THRESHOLD_" in capsys.readouterr().err


def _flaky(fail_starts, fail_times, calls):
    """fit_batch that raises for chunks whose first FID is one of ``fail_starts`` (``fail_times`` times)."""
    real = dist.fit_batch
    lock = threading.Lock()

    def fit_batch(design, fids, options, basis_names):
        key = complex(fids[0, 0])
        with lock:
            calls[key] = calls.get(key, 0) + 1
            n = calls[key]
        if key in fail_starts and n <= fail_times:
            raise RuntimeError(f"injected failure {n}")
        return real(design, fids, options, basis_names)
    return fit_batch


def test_failed_chunk_is_retried(monkeypatch, thread_client, spectra, in_process):
    model, ref = in_process
    fids = spectra.flat()
    calls = {}
    monkeypatch.setattr(dist, "fit_batch", _flaky({complex(fids[5, 0])}, 1, calls))
    res = fit_distributed(model, spectra, client=thread_client, chunk_size=5, retries=2)
    assert calls[complex(fids[5, 0])] == 2            # failed once, retried once
    assert res.failed_chunks == [] and res.status == ["ok"] * N_SPECTRA
    assert _rel_close(res.arrays["amplitude"], ref.arrays["amplitude"])


def test_chunk_failing_after_retries_is_reported(monkeypatch, thread_client, spectra, in_process, capsys):
    model, ref = in_process
    fids = spectra.flat()
    calls = {}
    monkeypatch.setattr(dist, "fit_batch", _flaky({complex(fids[10, 0])}, 99, calls))
    res = fit_distributed(model, spectra, client=thread_client, chunk_size=5, retries=1)
    assert calls[complex(fids[10, 0])] == 2            # first try + one retry
    assert [(a, b) for a, b, _ in res.failed_chunks] == [(10, 15)]
    assert "injected failure" in res.failed_chunks[0][2]
    assert all(s.startswith("failed: RuntimeError") for s in res.status[10:15])
    assert res.status[:10] == ["ok"] * 10 and res.status[15:] == ["ok"] * 5
    assert np.isnan(res.arrays["amplitude"][10:15]).all()
    keep = np.r_[0:10, 15:20]
    assert _rel_close(res.arrays["amplitude"][keep], ref.arrays["amplitude"][keep])
    assert "spectra 10-14 failed" in capsys.readouterr().err
    calls.clear()
    with pytest.raises(MRSQuantError, match="1 of 4 chunks failed"):
        fit_distributed(model, spectra, client=thread_client, chunk_size=5, retries=0, on_error="raise")


def test_mrsi_on_dask_equals_in_process(thread_client, basis):
    from mrsquant.app.mrsi import fit_mrsi, metabolite_maps
    from mrsquant.fitting.synthetic import simulate_mrsi

    csi, _, _ = simulate_mrsi(basis, (2, 2, 1), noise_sd=2.0, seed=4)
    model = FitModel(basis)
    local = metabolite_maps(fit_mrsi(model, csi, mask="all"))
    remote = metabolite_maps(fit_mrsi(model, csi, mask="all", client=thread_client, chunk_size=1))
    assert local.keys() == remote.keys()
    # chunks of 1 vs one chunk of 4: the float32 batched products round differently with the batch
    # size (~1e-7); the Akaike weight of the lineshape average passes that on (measured 2e-6 relative),
    # far below any CRLB
    assert np.allclose(remote["tNAA_amplitude"], local["tNAA_amplitude"], rtol=1e-4)
    assert np.allclose(remote["tNAA_ratio_tcr"], local["tNAA_ratio_tcr"], rtol=1e-4)


def test_needs_client_or_scheduler(in_process, spectra):
    model, _ = in_process
    with pytest.raises(MRSQuantError, match="client="):
        fit_distributed(model, spectra)


def test_maps_cli_with_scheduler(thread_client, basis, challenge, tmp_path):
    import nibabel as nib

    from mrsquant.cli import main
    from mrsquant.fitting.synthetic import simulate_mrsi

    csi, _, truth = simulate_mrsi(basis, (2, 2, 1), noise_sd=2.0, seed=6)
    mq.save(csi, tmp_path / "csi.nii.gz")
    rc = main(["maps", str(tmp_path / "csi.nii.gz"), "--basis", str(challenge / "basisset_text_noTMS"),
               "-o", str(tmp_path / "maps"), "--scheduler", thread_client.scheduler.address, "--quiet"])
    assert rc == 0
    img = nib.load(str(tmp_path / "maps" / "tNAA_ratio_tcr.nii.gz"))
    a, n = truth["amplitude"], truth["names"]
    tnaa = a[..., n.index("NAA")] + a[..., n.index("NAAG")]
    expected = tnaa / (a[..., n.index("Cr")] + a[..., n.index("PCr")])
    assert np.allclose(np.asarray(img.dataobj), expected, rtol=0.05)
    assert np.allclose(img.affine, csi.affine)
