"""`mrsquant fit` output defects (issue 20 part 5): each has its test."""
import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from mrsquant.cli import main


def _tsv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture()
def case(challenge):
    return {"data": challenge / "datasets_text" / "dataset1.txt", "basis": challenge / "basisset_text_noTMS",
            "artefact": challenge / "datasets_LCModel" / "dataset24.RAW"}


def _fit(case, out, *extra, inputs=None):
    return main(["fit", *map(str, inputs or [case["data"]]), "--basis", str(case["basis"]), "-o", str(out),
                 "--quiet", *extra])


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mrsquant fit: error: "), err
    return err[0]


def test_unwritable_output_refused_before_fitting(case, tmp_path, capsys, monkeypatch):
    from mrsquant.fitting.model import FitModel

    def never(*a, **k):
        raise AssertionError("fitted before the output folder was checked")
    monkeypatch.setattr(FitModel, "fit", never)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert _fit(case, blocker / "out") == 2
    assert "is not a folder" in _one_error_line(capsys)
    # a folder the user may not write to (simulated: the process runs as root here)
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    assert _fit(case, tmp_path / "ro") == 2
    assert "not writable (Permission denied)" in _one_error_line(capsys)


def test_rerun_removes_stale_outputs_and_keeps_user_files(case, tmp_path, capsys):
    out = tmp_path / "out"
    assert _fit(case, out, "--ratios", "tCho/tNAA") == 0
    assert (out / "ratios.tsv").exists()
    for stale in ("report.pdf", "mrsinmrs.md"):
        (out / stale).write_text("from an earlier run")
    (out / "notes.txt").write_text("mine")
    assert _fit(case, out) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["concentrations.tsv", "fit.nc", "notes.txt", "qc.tsv"]   # no staging folder left
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_failure_while_writing_keeps_earlier_outputs(case, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert _fit(case, out) == 0
    before = (out / "qc.tsv").read_bytes()
    import mrsquant.app.pipeline as pipeline

    def broken(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(pipeline, "save_fit", broken)   # the writer the pipeline calls
    with pytest.raises(OSError):
        _fit(case, out, "--ratios", "tCho/tNAA")
    assert (out / "qc.tsv").read_bytes() == before and not (out / "ratios.tsv").exists()
    assert sorted(p.name for p in out.iterdir()) == ["concentrations.tsv", "fit.nc", "qc.tsv"]


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_output_modes_follow_the_umask(case, tmp_path, mask):
    old = os.umask(mask)
    try:
        assert _fit(case, tmp_path / "out", "--report") == 0
    finally:
        os.umask(old)
    out = tmp_path / "out"
    assert (out / "mrsinmrs.md").exists()
    for p in out.iterdir():
        assert p.stat().st_mode & 0o777 == 0o666 & ~mask, p.name
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask


def _text_like(src, dst, fn):
    """A copy of a 4-column challenge text file with its metabolite columns changed by ``fn``."""
    a = np.loadtxt(src)
    a[:, :2] = fn(a[:, :2])
    np.savetxt(dst, a)
    return dst


@pytest.mark.parametrize("what,fn,message", [
    ("zero", lambda x: 0 * x, "input is all zero"),
    ("nan", lambda x: np.full_like(x, np.nan), "NaN"),
])
def test_all_zero_or_nan_input_refused(case, tmp_path, capsys, what, fn, message):
    bad = _text_like(case["data"], tmp_path / f"{what}.txt", fn)
    assert _fit(case, tmp_path / "out", inputs=[bad]) == 2
    assert message in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_zero_input_in_a_batch_is_failed_and_counted(case, tmp_path, capsys):
    bad = _text_like(case["data"], tmp_path / "zero.txt", lambda x: 0 * x)
    assert _fit(case, tmp_path / "out", inputs=[case["data"], bad]) == 0
    qc = {r["spectrum"]: r for r in _tsv(tmp_path / "out" / "qc.tsv")}
    assert qc["zero"]["status"] == "failed: input is all zero" and qc["dataset1"]["status"] == "ok"
    line = capsys.readouterr().out
    assert line.startswith("1 fitted, 0 flagged, 1 failed (zero: input is all zero)")


def test_summary_line_names_the_flagged(case, tmp_path, capsys):
    assert _fit(case, tmp_path / "out", inputs=[case["data"], case["artefact"]]) == 0
    qc = {r["spectrum"]: r for r in _tsv(tmp_path / "out" / "qc.tsv")}
    assert qc["dataset24"]["status"] != "ok" and qc["dataset24"]["reasons"]
    line = capsys.readouterr().out
    assert line.startswith(f"2 fitted, 1 flagged (dataset24: {qc['dataset24']['status']}), 0 failed")


def test_basis_without_ratio_reference_refused(case, tmp_path, capsys):
    assert _fit(case, tmp_path / "out", "--exclude", "Cr", "PCr") == 2
    assert "neither Cr nor PCr" in _one_error_line(capsys)


@pytest.mark.parametrize("n_points,dwell_factor,message", [
    (1024, 1.0, "water reference has 1024 points, the data 2048"),
    (2048, 2.0, "water reference dwell time 500 us differs from the data's 250 us"),
])
def test_mismatched_water_reference_refused(case, tmp_path, capsys, n_points, dwell_factor, message):
    from mrsquant.io import load, save

    s = load(case["data"])
    w = s.replace(data=s.data[:n_points].copy(), dwelltime_s=s.dwelltime_s * dwell_factor)
    wpath = save(w, tmp_path / "water.nii.gz")
    assert _fit(case, tmp_path / "out", "--water", str(wpath)) == 2
    assert message in _one_error_line(capsys)


def test_closed_pipe_is_quiet(case):
    """`mrsquant info FILE | head -0`: no traceback, status 141 (128 + SIGPIPE)."""
    r, w = os.pipe()
    os.close(r)                      # the reader is gone before anything is written
    proc = subprocess.run([sys.executable, "-m", "mrsquant", "info", str(case["data"])], stdout=w,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(w)
    assert proc.stderr == "" and proc.returncode == 141


def test_report_command_modes_follow_the_umask(case, tmp_path):
    out = tmp_path / "out"
    assert _fit(case, out) == 0
    old = os.umask(0o022)
    try:
        assert main(["report", str(out)]) == 0
    finally:
        os.umask(old)
    for name in ("report.pdf", "mrsinmrs.md"):
        assert (out / name).stat().st_mode & 0o777 == 0o644, name
