"""Speed of the core steps, as a pytest-benchmark suite (issue 21); not part of ``make test``.

Run: ``python benchmarks/bench_speed.py [--write]`` (machine line, load average, docs section),
or directly ``python -m pytest benchmarks/test_speed.py --benchmark-only``.

In-process (warm imports): single fit, batch of 100, basis parse and cache hit, preprocessing
of one 8-transient acquisition with its water reference, the QC report of one fit. Fresh
processes (imports included, as a user feels them): ``mrsquant --help``, ``mrsquant info``, and
``mrsquant fit`` on one spectrum with its basis cached. Data: the shipped example cohort and
the ISMRM fitting challenge in ../shared/data (tests needing it skip without it).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data"))
CH = DATA / "fitting_challenge_2016"
COHORT = ROOT / "data" / "examples" / "cohort"
EXAMPLE_RAW = ROOT / "data" / "examples" / "lcmodel" / "example.RAW"

#: issue 21 targets (seconds), written next to the figures
TARGETS = {"test_single_fit": 0.050, "test_cli_single_fit_cached": 1.0, "test_cli_info": 0.4,
           "test_cli_help": 0.5, "test_report": 3.0}


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not found (set MRSQUANT_DATA)")
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A fresh basis cache for this run (never the user's)."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MRSQUANT_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def challenge_basis():
    from mrsquant.basis.io import load_basis

    return load_basis(need(CH / "basisset_text_noTMS"))


@pytest.fixture(scope="module")
def challenge_spectra():
    """The 21 challenge spectra with truth, as one batch."""
    import mrsquant as mq

    items = [mq.load(need(CH / "datasets_text" / f"dataset{i}.txt")) for i in range(1, 22)]
    data = np.stack([s.data.reshape(-1) for s in items])
    return items[0].replace(data=data, dims=("spectrum",), affine=None)


@pytest.fixture(scope="module")
def model(challenge_basis):
    from mrsquant.fitting import FitModel

    return FitModel(challenge_basis)


def test_single_fit(benchmark, model, challenge_spectra):
    one = challenge_spectra.replace(data=challenge_spectra.data[:1])
    model.fit(one)                      # design built once per grid (data-independent)
    result = benchmark(model.fit, one, jobs=1)
    assert np.all(np.isfinite(result.amplitude))


def test_batch_of_100(benchmark, model, challenge_spectra):
    from mrsquant.fitting.synthetic import challenge_like

    batch = challenge_like(challenge_spectra, 100, seed=1)
    model.fit(batch.replace(data=batch.data[:1]))
    result = benchmark.pedantic(model.fit, args=(batch,), rounds=5, iterations=1)
    assert result.amplitude.shape[0] == 100


def test_basis_parse(benchmark):
    from mrsquant.basis.io import load_basis

    path = need(CH / "basisset_LCModel" / "press3T_30ms.BASIS")
    b = benchmark.pedantic(load_basis, args=(path,), rounds=5, iterations=1)
    assert len(b.names) > 10


def test_basis_cache_hit(benchmark, cache):
    from mrsquant.basis.cache import load_basis_cached

    path = need(CH / "basisset_LCModel" / "press3T_30ms.BASIS")
    load_basis_cached(path, n_points=2048, dwelltime_s=2.5e-4)   # fills the entry
    b = benchmark(load_basis_cached, path, n_points=2048, dwelltime_s=2.5e-4)
    assert b.n_points == 2048


def test_preprocessing(benchmark):
    import mrsquant as mq
    from mrsquant.preproc import preprocess

    svs = mq.load(need(COHORT / "sub-01_ses-pre_svs.nii.gz"))
    ref = mq.load(COHORT / "sub-01_ses-pre_ref.nii.gz")
    processed, _ = benchmark.pedantic(preprocess, args=(svs,), kwargs={"water": ref}, rounds=5, iterations=1)
    assert processed.data.ndim == 1


@pytest.fixture(scope="module")
def one_fit(tmp_path_factory, cache):
    from mrsquant.cli import main

    out = tmp_path_factory.mktemp("fit") / "one"
    rc = main(["fit", str(need(CH / "datasets_text" / "dataset1.txt")), "--basis",
               str(CH / "basisset_text_noTMS"), "-o", str(out), "--quiet"])
    assert rc == 0
    return out


def test_report(benchmark, one_fit):
    from mrsquant.qc.report import report_from_outdir

    pdf = one_fit / "bench_report.pdf"
    benchmark.pedantic(report_from_outdir, args=(one_fit, pdf), rounds=3, iterations=1)
    assert pdf.stat().st_size > 1000


def _cli(*args):
    subprocess.run([sys.executable, "-m", "mrsquant", *map(str, args)], check=True, capture_output=True,
                   env=dict(os.environ))


def test_cli_help(benchmark):
    benchmark.pedantic(_cli, args=("--help",), rounds=7, iterations=1, warmup_rounds=1)


def test_cli_info(benchmark):
    benchmark.pedantic(_cli, args=("info", need(EXAMPLE_RAW)), rounds=7, iterations=1, warmup_rounds=1)


def test_cli_single_fit_cached(benchmark, tmp_path, cache):
    """``mrsquant fit`` on one spectrum (LCModel .RAW + .H2O) with the challenge .BASIS, cached
    by the warm-up round: what a user feels on the second call."""
    args = ("fit", need(CH / "datasets_LCModel" / "dataset1.RAW"), "--basis",
            need(CH / "basisset_LCModel" / "press3T_30ms.BASIS"), "-o", tmp_path / "out", "--quiet")
    benchmark.pedantic(_cli, args=args, rounds=5, iterations=1, warmup_rounds=1)
    assert (tmp_path / "out" / "concentrations.tsv").exists() and any((cache / "parsed").iterdir())
