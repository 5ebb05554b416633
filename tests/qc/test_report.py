"""QC PDF report: real fits (challenge, Philips SDAT, a 20-spectrum batch), failed fits, CLI.

Truth comes from outside the report code: the numbers in concentrations.tsv/qc.tsv
written by the fitting pipeline, the SPAR text header, the challenge README (123.2 MHz,
TE 30 ms), and analytic cases for the flag and outlier rules.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from mrsquant.cli import main
from mrsquant.qc import style
from mrsquant.qc.cohort import tukey_outliers
from mrsquant.qc.report import render_report
from mrsquant.qc.synthetic import synthetic_fit_dataset

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext not installed")

HEADINGS = ("MRSinMRS checklist", "1. Hardware", "2. Acquisition",
            "3. Data analysis methods and outputs", "4. Data quality")
PHILIPS = ("osprey_examples/exampledata/sdat/UnEdited_with_MM_data/sub-02/ses-01/mrs/"
           "sub-02_ses-01_press/sub-02_ses-01_PRESS_raw-act_noID")
SPANT_SDAT = "spant_examples/inst/extdata/philips_spar_sdat_WS.SDAT"


def pdf_pages(path) -> list[str]:
    """Text of each page (pdftotext separates pages with form feeds)."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def tokens(text: str) -> set[str]:
    return set(re.split(r"\s+", text))


def assert_tsv_numbers_shown(page_text: str, conc: pd.DataFrame, spectrum: str):
    rows = conc[conc["spectrum"] == spectrum]
    assert len(rows) > 5
    words = tokens(page_text)
    for _, r in rows.iterrows():
        assert r["metabolite"] in words, r["metabolite"]
        for col in ("amplitude", "ratio_tcr", "crlb_percent", "crlb_abs", "conc_mm"):
            if r[col] != "":     # the page rounds the file's numbers to 3 significant figures
                shown = f"{float(r[col]):.3g}"
                assert shown in words, (r["metabolite"], col, r[col], shown)


@pytest.fixture(scope="module")
def challenge_out(challenge, tmp_path_factory):
    out = tmp_path_factory.mktemp("challenge")
    assert main(["fit", str(challenge / "datasets_text" / "dataset1.txt"), "--basis",
                 str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet"]) == 0
    assert not (out / "report.pdf").exists()
    assert main(["report", str(out)]) == 0
    return out


def test_challenge_report_shows_tsv_numbers_and_headings(challenge_out):
    pages = pdf_pages(challenge_out / "report.pdf")
    assert len(pages) == 2  # one spectrum page + the MRSinMRS page
    conc = pd.read_csv(challenge_out / "concentrations.tsv", sep="\t", dtype=str, keep_default_na=False)
    qc = pd.read_csv(challenge_out / "qc.tsv", sep="\t", dtype=str, keep_default_na=False)
    page = pages[0]
    assert "dataset1" in page
    assert_tsv_numbers_shown(page, conc, "dataset1")
    for word in ("SNR", "FWHM", "CRLB"):
        assert word in page
    for col in ("snr", "snr_lcmodel", "fwhm_hz", "fqn"):
        assert f"{float(qc.loc[0, col]):.3g}" in tokens(page), col     # rounded to 3 significant figures
    # water-scaled concentrations exist for the challenge (water columns in the text file)
    assert "mM" in page
    for h in HEADINGS:
        assert h in pages[1]
    # challenge README: 123.2 MHz, TE 30 ms -> 123.2 / 42.577 T
    assert f"{123.2 / 42.577478:.2f}" in pages[1]
    assert "TE 30 ms" in pages[1]


def test_mrsinmrs_markdown_written_next_to_report(challenge_out):
    md = (challenge_out / "mrsinmrs.md").read_text()
    for h in HEADINGS[1:]:
        assert f"## {h}" in md
    shim = [ln for ln in md.splitlines() if ln.startswith("| h. Shimming")]
    assert shim and "not in header" in shim[0]
    assert not list(challenge_out.glob("*.part"))


def test_philips_sdat_report_from_fit_cli(shared_data, tmp_path):
    """In vivo Philips SDAT (spant example, 127.786 MHz, TE 30): `fit --report` calls
    render_report on FitResult.to_xarray() (the in-memory path)."""
    import mrsquant as mq

    sdat = shared_data / SPANT_SDAT
    if not sdat.is_file():
        pytest.skip(f"{sdat} not in the shared data")
    s = mq.load(sdat)
    spar = sdat.with_suffix(".SPAR").read_text(errors="replace")
    te = re.search(r"^echo_time\s*:\s*([\d.]+)", spar, re.M).group(1)
    tr = re.search(r"^repetition_time\s*:\s*([\d.]+)", spar, re.M).group(1)
    basis = tmp_path / "basis"
    assert main(["basis", "simulate", "--sequence", "press", "--te", te, "--field-mhz",
                 f"{s.spectrometer_frequency_mhz:.4f}", "--points", str(s.n_points), "--bandwidth",
                 f"{1 / s.dwelltime_s:g}", "--metabolites", "NAA,Cr,PCr,GPC,PCh,Glu,Gln,mI,GABA,GSH",
                 "-o", str(basis)]) == 0
    out = tmp_path / "fit"
    assert main(["fit", str(sdat), "--basis", str(basis), "-o", str(out), "--quiet", "--report"]) == 0
    pages = pdf_pages(out / "report.pdf")
    assert len(pages) == 2
    conc = pd.read_csv(out / "concentrations.tsv", sep="\t", dtype=str, keep_default_na=False)
    name = conc["spectrum"].iloc[0]
    assert_tsv_numbers_shown(pages[0], conc, name)
    for word in ("SNR", "FWHM", "CRLB"):
        assert word in pages[0]
    md = (out / "mrsinmrs.md").read_text()
    assert "| b. Manufacturer | Philips |" in md
    assert f"TR {float(tr):g} ms, TE {float(te):g} ms" in md
    assert "Philips" in pages[1]
    for h in HEADINGS:
        assert h in pages[1]


def test_voxel_size_from_the_sdat_affine(shared_data):
    """VOI size from an affine: the SPAR file states ap/lr/cc sizes 26/26/30 mm."""
    import mrsquant as mq

    sdat = shared_data / (PHILIPS + ".SDAT")
    if not sdat.is_file():
        pytest.skip(f"{sdat} not in the shared data")
    s = mq.load(sdat)
    spar = (shared_data / (PHILIPS + ".SPAR")).read_text(errors="replace")
    sizes = sorted(float(re.search(rf"^{k}_size\s*:\s*([\d.]+)", spar, re.M).group(1))
                   for k in ("ap", "lr", "cc"))
    from mrsquant.qc.mrsinmrs import checklist

    ds = synthetic_fit_dataset(1, header=dict(s.meta, affine=np.asarray(s.affine).tolist()))
    voi = dict(checklist(ds)[1][1])["c. Nominal VOI size [cm3, mm3]"]
    got = sorted(float(x) for x in re.findall(r"([\d.]+)(?= x| mm)", voi))
    assert got == pytest.approx(sizes, abs=0.05)
    assert f"{np.prod(sizes) / 1000:.3g} mL" in voi


@pytest.fixture(scope="module")
def batch_out(challenge, tmp_path_factory):
    """19 challenge spectra and one unreadable file: 20 spectra, one failed."""
    out = tmp_path_factory.mktemp("batch")
    bad = out / "broken_scan.txt"
    bad.write_text("this is not a spectrum\n")
    inputs = [str(challenge / "datasets_text" / f"dataset{i}.txt") for i in range(1, 20)] + [str(bad)]
    assert main(["fit", *inputs, "--basis", str(challenge / "basisset_text_noTMS"), "-o",
                 str(out / "fit"), "--quiet"]) == 0
    assert main(["report", str(out / "fit"), "-o", str(out / "cohort.pdf")]) == 0
    return out


def test_batch_report_page_structure(batch_out):
    pages = pdf_pages(batch_out / "cohort.pdf")
    names = [f"dataset{i}" for i in range(1, 20)] + ["broken_scan"]
    spectrum_pages = [p for p in pages if "mrsquant QC report \u2013 dataset" in p
                      or "mrsquant QC report \u2013 broken_scan" in p]
    assert len(spectrum_pages) == 20
    for name, page in zip(names, spectrum_pages):  # in input order
        assert f"mrsquant QC report \u2013 {name}\n" in page or f"\u2013 {name} " in page
    assert "cohort summary" in pages[0]
    assert "MRSinMRS checklist" in pages[-1]
    n_summary = pages.index(spectrum_pages[0])
    assert 2 <= n_summary <= 3  # summary figure page + table page(s)
    assert len(pages) == n_summary + 20 + 1
    for word in ("SNR", "FWHM", "CRLB"):
        assert word in pages[0]
    assert (batch_out / "mrsinmrs.md").is_file()


def test_batch_failed_spectrum_page_says_what_failed(batch_out):
    qc = pd.read_csv(batch_out / "fit" / "qc.tsv", sep="\t", dtype=str, keep_default_na=False)
    status = qc.set_index("spectrum").loc["broken_scan", "status"]
    assert status.startswith("failed")
    pages = pdf_pages(batch_out / "cohort.pdf")
    page = next(p for p in pages if "mrsquant QC report \u2013 broken_scan" in p)
    assert "FIT FAILED" in page
    # the reason (first words) is on the page
    reason = status.split(":", 1)[1].strip()
    assert " ".join(reason.split()[:3]) in " ".join(page.split())
    tables = "\n".join(pages[1:3])
    assert "broken_scan" in tables and "failed" in tables


def test_batch_spectrum_pages_match_tsv(batch_out):
    conc = pd.read_csv(batch_out / "fit" / "concentrations.tsv", sep="\t", dtype=str,
                       keep_default_na=False)
    pages = pdf_pages(batch_out / "cohort.pdf")
    for name in ("dataset3", "dataset17"):
        page = next(p for p in pages if f"mrsquant QC report \u2013 {name}" in p)
        assert_tsv_numbers_shown(page, conc, name)


# ---------------------------------------------------------------------------
# synthetic fits (contract of docs/fit_outputs.md) and rules
# ---------------------------------------------------------------------------
def test_failed_synthetic_spectrum_gets_a_page(tmp_path):
    ds = synthetic_fit_dataset(3, failed=[1])
    pdf = render_report(ds, tmp_path / "r.pdf", mrsinmrs_path=False)
    pages = pdf_pages(pdf)
    page = next(p for p in pages if "QC report \u2013 sub-02" in p)
    assert "FIT FAILED" in page and "optimiser did not converge" in page
    assert "no components: the fit failed" in page
    assert not (tmp_path / "mrsinmrs.md").exists()


def test_all_nan_fit_without_failed_status_still_rendered(tmp_path):
    ds = synthetic_fit_dataset(1)
    ds["fit"][:] = np.nan
    pages = pdf_pages(render_report(ds, tmp_path / "r.pdf"))
    assert len(pages) == 2
    assert "FIT FAILED" in pages[0] and "NaN" in pages[0]


def test_preprocessing_record_is_drawn(tmp_path):
    ds = synthetic_fit_dataset(1)
    n = 16
    pre = {"steps": [{"Method": "Frequency and phase alignment", "Details": "spectral registration"},
                     {"Method": "Outlier removal", "Details": "2 of 16 rejected"}],
           "transients": pd.DataFrame({"dyn": np.arange(n), "freq_shift_hz": np.linspace(-2, 2, n),
                                       "phase_deg": np.zeros(n), "rejected": np.arange(n) % 8 == 3}),
           "before": np.repeat(ds["data"].values[:1], n, axis=0),
           "after": np.repeat(ds["data"].values[:1], n, axis=0)}
    pages = pdf_pages(render_report(ds, tmp_path / "r.pdf", preprocessing={"sub-01": pre}))
    text = " ".join(pages[0].split())
    assert "Transient alignment (2 rejected" in text
    assert "Frequency and phase alignment" in text and "Outlier removal" in text
    assert "Frequency shift (Hz)" in text and "Phase (deg)" in text
    md = (tmp_path / "mrsinmrs.md").read_text()
    assert "Frequency and phase alignment" in md
    assert f"{n} (transients in the preprocessing record)" in md


def test_header_values_fill_the_checklist():
    from mrsquant.qc.mrsinmrs import NOT_IN_HEADER, checklist

    hdr = {"SpectrometerFrequency": [297.2], "ResonantNucleus": ["1H"], "Manufacturer": "SIEMENS",
           "ManufacturersModelName": "Investigational_Device_7T", "SoftwareVersions": "syngo MR B17",
           "SequenceName": "svs_st", "EchoTime": 0.011, "RepetitionTime": 5.0,
           "ReceiveCoilName": {"Value": "\"32Ch_Head_7T\"", "Description": "Rx coil name."},
           "WaterSuppressionType": "VAPOR", "VOI": np.diag([20.0, 20.0, 20.0, 1.0]).tolist()}
    table = dict((s, dict(items)) for s, items in checklist(synthetic_fit_dataset(2, header=hdr)))
    hw, acq = table["1. Hardware"], table["2. Acquisition"]
    assert hw["a. Field strength [T]"].startswith(f"{297.2 / 42.577478:.2f}")
    assert hw["b. Manufacturer"] == "SIEMENS"
    assert "Investigational_Device_7T" in hw["c. Model (hardware and software version)"]
    assert "32Ch_Head_7T" in hw["d. RF coils: nuclei, number of channels, type, body part"]
    assert acq["a. Pulse sequence"] == "svs_st"
    assert acq["c. Nominal VOI size [cm3, mm3]"] == "20 x 20 x 20 mm (8 mL)"
    assert acq["d. Repetition time (TR), echo time (TE) [ms]"] == "TR 5000 ms, TE 11 ms"
    assert acq["g. Water suppression method"] == "VAPOR"
    assert acq["h. Shimming method, reference peak and thresholds"] == NOT_IN_HEADER
    assert acq["b. Volume of interest (VOI) location"] == NOT_IN_HEADER


def test_differing_headers_are_reported_as_varying():
    from mrsquant.qc.mrsinmrs import checklist

    ds = synthetic_fit_dataset(2)
    ds.attrs["header"] = json.dumps([{"Manufacturer": "Philips"}, {"Manufacturer": "GE"}])
    hw = dict(checklist(ds)[0][1])
    assert hw["b. Manufacturer"] == "varies: Philips; GE"


@pytest.mark.parametrize("name,amp,cabs,pct,expected", [
    ("NAA", 10.0, 2.5, 25.0, True),      # main metabolite over 20 %
    ("tCr", 10.0, 1.5, 15.0, False),
    ("GABA", 1.0, 0.6, 60.0, True),      # low concentration: amplitude < 2 CRLB
    ("GABA", 1.0, 0.4, 40.0, False),     # 40 % but detected (amplitude > 2 CRLB)
    ("Gln", 0.0, 0.1, np.nan, True),     # not detected
    ("MM09", 1.0, 5.0, 500.0, False),    # nuisance: never flagged
    ("NAA", np.nan, np.nan, np.nan, False),
])
def test_crlb_flag_rules(name, amp, cabs, pct, expected):
    assert style.crlb_flag(name, amp, cabs, pct) is expected


def test_tukey_outliers_analytic():
    x = np.array([10.0, 11, 12, 13, 14, 15, 100, np.nan])
    # Q1 = 11.5, Q3 = 14.5, IQR 3 -> fences 7, 19
    assert tukey_outliers(x).tolist() == [False] * 6 + [True, False]


def test_metabolite_colours_are_fixed_and_distinct():
    main_names = ["NAA", "Cr", "PCr", "GPC", "PCh", "Glu", "Gln", "GABA", "GSH", "mI", "tNAA", "tCr"]
    colours = [style.metabolite_colour(m) for m in main_names]
    assert len(set(colours)) == len(colours)
    assert style.metabolite_colour("Xyz") == style.metabolite_colour("Xyz")


def test_cohort_outliers_are_named(tmp_path):
    ds = synthetic_fit_dataset(8)
    snr = ds["snr"].values.copy()
    snr[7] = 5 * snr.max()
    ds["snr"] = ("spectrum", snr)
    pages = pdf_pages(render_report(ds, tmp_path / "r.pdf"))
    assert "SNR outliers: sub-08" in pages[0]


def test_cli_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a folder" in err[0]
    (tmp_path / "fit.nc").write_bytes(b"garbage")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fit.nc" in err[0]
    assert not (tmp_path / "report.pdf").exists()
    assert not list(tmp_path.glob("*.part"))


def test_preprocess_record_object_and_json_round_trip(tmp_path):
    """A PreprocessRecord-like object (Spectra before/after) is drawn, also after JSON storage."""
    from types import SimpleNamespace

    import mrsquant as mq
    from mrsquant.axes import time_axis
    from mrsquant.qc.report import preprocessing_entry

    n_pts, dwell, f0 = 2048, 1 / 4000, 123.2
    t = time_axis(n_pts, dwell)
    fid = np.exp(-2j * np.pi * (2.008 - 4.65) * f0 * t - np.pi * 5 * t)  # NAA singlet
    before = mq.Spectra(data=fid, dims=(), dwelltime_s=dwell, spectrometer_frequency_mhz=f0)
    rec = SimpleNamespace(
        steps=[{"Method": "Frequency and phase correction", "Details": "spectral registration"}],
        transients=pd.DataFrame({"dyn": [0, 1, 2, 3], "freq_shift_hz": [0.0, 1, -1, 0.5],
                                 "phase_deg": [0.0, 2, 1, -3], "rejected": [False, True, False, False]}),
        before=before, after=before)
    entry = json.loads(json.dumps(preprocessing_entry(rec)))
    # the stored window keeps the NAA peak where the ppm axis says it is
    ppm = np.asarray(entry["ppm"])
    assert ppm.max() <= 4.2 and ppm.min() >= 0.2
    assert ppm[np.argmax(entry["after"]["real"][0])] == pytest.approx(2.008, abs=0.01)
    ds = synthetic_fit_dataset(1)
    ds.attrs["preprocessing"] = json.dumps([entry])
    for kwargs in ({}, {"preprocessing": [rec]}):
        text = " ".join(pdf_pages(render_report(ds, tmp_path / "r.pdf", **kwargs))[0].split())
        assert "Transient alignment (1 rejected" in text
        assert "Frequency and phase correction" in text


def test_water_reference_fit_panel(tmp_path):
    ds = synthetic_fit_dataset(1)
    wppm = np.linspace(5.65, 3.65, 200)
    line = 1 / (1 + ((wppm - 4.65) / 0.03) ** 2)
    ds["water_data"] = (("spectrum", "water_ppm"), line[None].astype(complex))
    ds["water_fit"] = (("spectrum", "water_ppm"), line[None].astype(complex))
    ds = ds.assign_coords(water_ppm=wppm)
    ds["water_fwhm_hz"] = ("spectrum", [0.06 * 123.2])
    text = pdf_pages(render_report(ds, tmp_path / "r.pdf"))[0]
    assert "Water reference fit" in text
    assert f"{0.06 * 123.2:.3g} Hz" in text  # 3 significant figures on the page


def _visible_texts(fig):
    out = list(fig.texts)
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick, loc in zip(axis.get_major_ticks(), axis.get_majorticklocs()):
                if lo - 1e-9 <= loc <= hi + 1e-9:
                    out += [tick.label1, tick.label2]
        if ax.get_legend():
            out += ax.get_legend().get_texts()
    # monospaced table rows are overdrawn on purpose in their blank cells
    return [t for t in out if t.get_visible() and t.get_text().strip() and "   " not in t.get_text()]


def test_no_overlapping_or_clipped_text_on_any_page_type():
    """Every text box on every page type lies inside the page and overlaps no other."""
    import itertools

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from mrsquant.qc import cohort, mrsinmrs
    from mrsquant.qc.report import draw_spectrum_page

    n = 24
    rng = np.random.default_rng(3)
    ds = synthetic_fit_dataset(3, failed=[2])
    pre = {"steps": [{"Method": "Frequency and phase correction", "Details": "spectral registration "
                      "(Near et al. 2015), dim=DIM_DYN, window 0.2-4.2 ppm"}] * 6,
           "transients": {"dyn": list(range(n)), "freq_shift_hz": rng.normal(0, 2, n).tolist(),
                          "phase_deg": rng.normal(0, 5, n).tolist(), "rejected": [k == 4 for k in range(n)]},
           "before": np.repeat(ds["data"].values[:1], 4, axis=0), "after": ds["data"].values[0]}
    wppm = np.linspace(5.65, 3.65, 100)
    water = np.repeat((1 / (1 + ((wppm - 4.65) / 0.03) ** 2))[None], 3, axis=0).astype(complex)
    ds = ds.assign_coords(water_ppm=wppm)
    ds["water_data"] = (("spectrum", "water_ppm"), water)
    figs = []
    with matplotlib.rc_context(style.RC):
        for i, p in ((0, pre), (1, None), (2, pre)):
            fig = Figure(figsize=style.A4_PORTRAIT)
            draw_spectrum_page(fig, ds, i, preprocessing=p)
            figs.append(fig)
        figs += list(cohort.summary_pages(ds))
        fig = Figure(figsize=style.A4_PORTRAIT)
        mrsinmrs.draw_page(fig, mrsinmrs.checklist(ds))
        figs.append(fig)
        problems = []
        for k, fig in enumerate(figs):
            FigureCanvasAgg(fig).draw()
            r = fig.canvas.get_renderer()
            boxes = [(t.get_text()[:30], t.get_window_extent(r)) for t in _visible_texts(fig)]
            for text, b in boxes:
                if b.x0 < 0 or b.y0 < 0 or b.x1 > fig.bbox.width or b.y1 > fig.bbox.height:
                    problems.append((k, "outside", text))
            for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
                ov = a.intersection(a, b)
                if ov is not None and ov.width > 1 and ov.height > 1:
                    problems.append((k, ta, tb))
    assert problems == []


# ---------------------------------------------------------------------------
# edited fits: the difference-spectra page (qc/difference.py)
# ---------------------------------------------------------------------------
def _hermes_like(ds):
    """A joint-fit layout: three windows (sum, diff_gaba, diff_gsh) on one restarting ppm axis."""
    import xarray as xr

    out = xr.concat([ds, ds, ds], dim="ppm", data_vars="minimal", coords="minimal", compat="override")
    out.attrs.update(ds.attrs, basis_sequence="hermes")
    return out


def test_unedited_fit_has_no_difference_page(tmp_path):
    pages = pdf_pages(render_report(synthetic_fit_dataset(1), tmp_path / "r.pdf", mrsinmrs_path=False))
    assert len(pages) == 2 and not any("Difference spectra" in p for p in pages)


def test_mega_diff_fit_gets_a_difference_page(tmp_path):
    ds = synthetic_fit_dataset(1)
    ds.attrs["basis_sequence"] = "mega-press-diff"
    pages = pdf_pages(render_report(ds, tmp_path / "r.pdf", mrsinmrs_path=False))
    assert len(pages) == 3                                    # spectrum, DIFF, checklist
    text = " ".join(pages[1].split())
    assert "Difference spectra \u2013 sub-01" in text and "MEGA DIFF (ON - OFF)" in text
    assert "GABA (on baseline)" in text and "residual (offset)" in text and "zoom 3.5-2.75 ppm" in text


def test_hermes_fit_draws_both_differences_not_the_sum(tmp_path):
    from matplotlib.figure import Figure

    from mrsquant.qc.difference import difference_windows, draw_difference_page

    ds = _hermes_like(synthetic_fit_dataset(1))
    n = synthetic_fit_dataset(1).sizes["ppm"]
    assert [(w, s.start, s.stop) for w, s in difference_windows(ds)] == [("diff_gaba", n, 2 * n),
                                                                         ("diff_gsh", 2 * n, 3 * n)]
    fig = Figure()
    assert draw_difference_page(fig, ds, 0) == ["diff_gaba", "diff_gsh"]
    full = [ax for ax in fig.axes if ax.get_title(loc="left").endswith(")")]
    assert [ax.get_title(loc="left") for ax in full] == ["GABA difference (A + B - C - D)",
                                                        "GSH difference (A - B + C - D)"]
    for ax in full:
        labels = [ln.get_label() for ln in ax.get_lines()]
        assert {"data", "fit", "baseline", "residual (offset)"} <= set(labels)
        assert ax.get_xlim()[0] > ax.get_xlim()[1]           # ppm decreasing to the right
        data = next(ln for ln in ax.get_lines() if ln.get_label() == "data").get_ydata()
        assert np.isfinite(data).all() and np.ptp(data) > 0    # the window's data, drawn
    assert "GABA (on baseline)" in [ln.get_label() for ln in full[0].get_lines()]
    pages = pdf_pages(render_report(ds, tmp_path / "r.pdf", mrsinmrs_path=False))
    assert len(pages) == 3
    assert "GABA difference" in pages[1] and "GSH difference" in pages[1]
