"""The parsed/resampled basis cache (basis/cache.py) and `mrsquant fit --no-cache`."""
import numpy as np
import pytest

import mrsquant.basis.io as basis_io
from mrsquant.basis.cache import cache_enabled, cache_root, content_hash, load_basis_cached
from mrsquant.basis.io import load_basis, save_basis
from mrsquant.cli import main
from mrsquant.errors import InputError
from mrsquant.fitting.synthetic import singlet_basis, singlet_spectra
from mrsquant.io import save


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("MRSQUANT_CACHE", str(root))
    monkeypatch.delenv("MRSQUANT_NO_CACHE", raising=False)
    return root


@pytest.fixture(params=["folder", "lcmodel"])
def basis_path(request, tmp_path):
    """The analytic singlet basis at 4000 Hz, 2048 points, as an mrsquant folder or a .BASIS file."""
    b = singlet_basis(n_points=2048, dwelltime_s=1 / 4000.0)
    return save_basis(b, tmp_path / ("singlets" if request.param == "folder" else "singlets.BASIS"))


def _entries(root):
    return sorted((root / "parsed").glob("*.npz")) if (root / "parsed").is_dir() else []


def _no_parse(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the basis was parsed again")
    monkeypatch.setattr(basis_io, "load_basis", refuse)


def test_second_load_skips_the_parse_and_is_bit_identical(cache, basis_path, monkeypatch):
    truth = load_basis(basis_path).resample(1 / 2000.0, 1024)
    first = load_basis_cached(basis_path, n_points=1024, dwelltime_s=1 / 2000.0)
    assert len(_entries(cache)) == 1
    _no_parse(monkeypatch)
    second = load_basis_cached(basis_path, n_points=1024, dwelltime_s=1 / 2000.0)
    for b in (first, second):
        assert np.array_equal(b.fids, truth.fids) and np.array_equal(b.scaling, truth.scaling)
        assert b.names == truth.names and b.dwelltime_s == truth.dwelltime_s and b.n_points == 1024
        assert (b.spectrometer_frequency_mhz, b.te_ms, b.sequence, b.centre_ppm, b.provenance) == \
            (truth.spectrometer_frequency_mhz, truth.te_ms, truth.sequence, truth.centre_ppm, truth.provenance)


def test_key_holds_content_and_grid(cache, tmp_path):
    path = save_basis(singlet_basis(n_points=2048, dwelltime_s=1 / 4000.0), tmp_path / "b.BASIS")
    load_basis_cached(path, n_points=1024, dwelltime_s=1 / 2000.0)
    load_basis_cached(path, n_points=2048, dwelltime_s=1 / 4000.0)       # another grid: another entry
    load_basis_cached(path)                                              # parsed only
    assert len(_entries(cache)) == 3
    before = content_hash(path)
    other = singlet_basis(n_points=2048, dwelltime_s=1 / 4000.0, f0_mhz=123.3)
    save_basis(other, path)                                              # same name, new content
    assert content_hash(path) != before
    b = load_basis_cached(path, n_points=1024, dwelltime_s=1 / 2000.0)
    assert b.spectrometer_frequency_mhz == pytest.approx(123.3, abs=1e-4) and len(_entries(cache)) == 4


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 not a zip", None])
def test_corrupt_entry_is_ignored_and_rebuilt(cache, basis_path, damage):
    truth = load_basis_cached(basis_path, n_points=1024, dwelltime_s=1 / 2000.0)
    (entry,) = _entries(cache)
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2] if damage is None else damage)   # truncated or garbage
    again = load_basis_cached(basis_path, n_points=1024, dwelltime_s=1 / 2000.0)
    assert np.array_equal(again.fids, truth.fids) and again.names == truth.names
    assert entry.read_bytes() == data                                          # rewritten whole
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]            # no temporary left


def test_no_cache_writes_nothing(cache, basis_path, monkeypatch):
    load_basis_cached(basis_path, cache=False)
    monkeypatch.setenv("MRSQUANT_NO_CACHE", "1")
    assert not cache_enabled()
    load_basis_cached(basis_path)
    assert not cache.exists()


def test_unwritable_cache_still_loads(tmp_path, monkeypatch, basis_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("MRSQUANT_CACHE", str(blocker))
    b = load_basis_cached(basis_path, n_points=1024, dwelltime_s=1 / 2000.0)
    assert b.n_points == 1024 and blocker.read_text().startswith("a file")


def test_missing_basis_is_the_usual_error(cache, tmp_path):
    with pytest.raises(InputError, match="no such basis"):
        load_basis_cached(tmp_path / "nothing")


def test_cache_root_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("MRSQUANT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "mrsquant"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "mrsquant"
    monkeypatch.setenv("MRSQUANT_CACHE", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"


def _spectrum_file(tmp_path):
    b = singlet_basis()        # the data grid: 2000 Hz, 1024 points
    s = singlet_spectra([[10.0, 8.0, 2.0]], noise_sd=0.02, basis=b).isel(spectrum=0)
    return save(s, tmp_path / "one.nii.gz")


def test_second_cli_fit_skips_the_basis_load(cache, tmp_path, monkeypatch):
    basis = save_basis(singlet_basis(n_points=2048, dwelltime_s=1 / 4000.0), tmp_path / "singlets.BASIS")
    data = _spectrum_file(tmp_path)
    args = [str(data), "--basis", str(basis), "--baseline", "none", "--quiet"]
    assert main(["fit", *args, "-o", str(tmp_path / "plain"), "--no-cache"]) == 0
    assert not cache.exists()
    assert main(["fit", *args, "-o", str(tmp_path / "first")]) == 0
    (entry,) = _entries(cache)
    _no_parse(monkeypatch)
    assert main(["fit", *args, "-o", str(tmp_path / "second")]) == 0
    assert _entries(cache) == [entry]
    for name in ("concentrations.tsv", "qc.tsv"):
        plain = (tmp_path / "plain" / name).read_bytes()
        assert plain == (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
