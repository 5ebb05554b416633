"""The MRSinMRS minimum-reporting checklist (Lin et al., NMR Biomed 2021;34:e4484).

``checklist(ds)`` fills the four sections (hardware, acquisition, data analysis
methods and outputs, data quality) from the NIfTI-MRS header extensions stored in
``ds.attrs['header']`` and from the analysis settings of the fit. Items the data
cannot tell are marked ``not in header`` for the user to complete.
``to_markdown`` / ``write_markdown`` give the table for a paper's supplement;
``draw_page`` draws it as a report page.
"""
from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np

from ..files import atomic_path
from .preprocessing import normalise_preprocessing
from .style import basis_label, software_label

NOT_IN_HEADER = "not in header"

#: section titles, in the order of Lin et al. 2021, Table 1
SECTIONS = ("1. Hardware", "2. Acquisition", "3. Data analysis methods and outputs",
            "4. Data quality")

GYROMAGNETIC_MHZ_PER_T = {"1H": 42.577478, "31P": 17.235, "13C": 10.7084, "19F": 40.078,
                          "2H": 6.536}


def _json(value, default):
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return default if value is None else value


def _plain(value):
    """Header values may be ``{"Value": ..., "Description": ...}``; strip quotes."""
    if isinstance(value, dict) and "Value" in value:
        value = value["Value"]
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        value = value.strip().strip('"').strip()
    return value


def _collect(headers, *keys):
    """Distinct values of the first key present, over all headers (as strings)."""
    values = []
    for h in headers:
        for k in keys:
            if isinstance(h, dict) and k in h and _plain(h[k]) not in (None, ""):
                v = _plain(h[k])
                v = f"{v:g}" if isinstance(v, float) else str(v)
                if v not in values:
                    values.append(v)
                break
    return values


def _join(values, unit=""):
    if not values:
        return NOT_IN_HEADER
    text = values[0] if len(values) == 1 else "varies: " + "; ".join(values[:6]) + (
        " ..." if len(values) > 6 else "")
    return f"{text} {unit}".rstrip()


def _voxel_sizes(headers, attrs):
    """Voxel edge lengths (mm) from ``VOI``/``affine``/``VoxelSize_mm`` header keys."""
    out = []
    for h in headers + [attrs]:
        if not isinstance(h, dict):
            continue
        size = None
        for key in ("VoxelSize_mm", "voxel_size_mm", "VoxelSize"):
            if key in h:
                size = np.asarray(_plain(h[key]), float).ravel()[:3]
        for key in ("VOI", "affine", "Affine"):
            if size is None and key in h:
                a = np.asarray(_json(h[key], h[key]), float)
                if a.shape == (4, 4):
                    size = np.linalg.norm(a[:3, :3], axis=0)
        if size is not None and size.size == 3 and np.all(np.isfinite(size)) \
                and np.all((size > 0) & (size < 1000)):
            text = (f"{size[0]:g} x {size[1]:g} x {size[2]:g} mm "
                    f"({np.prod(size) / 1000:.3g} mL)")
            if text not in out:
                out.append(text)
    return out


def _stat(ds, var, unit="", fmt="{:.3g}"):
    if var not in ds:
        return None
    x = np.asarray(ds[var].values, float)
    x = x[np.isfinite(x)]
    if not x.size:
        return None
    if x.size == 1:
        return f"{fmt.format(x[0])}{unit}"
    return (f"median {fmt.format(np.median(x))}{unit} (range {fmt.format(x.min())}"
            f"-{fmt.format(x.max())}, n={x.size})")


def checklist(ds, *, preprocessing=None):
    """The MRSinMRS table for a fit Dataset (Lin et al. 2021): four sections.

    Parameters
    ----------
    ds : xarray.Dataset
        Fit results (docs/fit_outputs.md); reads ``attrs['header']`` (JSON list of
        NIfTI-MRS header extensions) and the analysis attributes.
    preprocessing : list, optional
        Per-spectrum preprocessing records (see ``report.normalise_preprocessing``);
        default ``attrs['preprocessing']``.

    Returns
    -------
    list of (section, list of (item, value))
    """
    a = ds.attrs
    headers = _json(a.get("header"), [])
    if isinstance(headers, dict):
        headers = [headers]
    headers = [h for h in headers if isinstance(h, dict)]
    if preprocessing is None:
        preprocessing = _json(a.get("preprocessing"), [])
    pre = [normalise_preprocessing(p) for p in (preprocessing or []) if p is not None]
    return [_hardware(headers, a), _acquisition(headers, a, pre), _analysis(ds, a, pre), _quality(ds)]


def _hardware(headers, a):
    """Section 1: field, manufacturer, model and software, coils."""
    f0 = _collect(headers, "SpectrometerFrequency")
    nucleus = _collect(headers, "ResonantNucleus") or ([str(a["nucleus"])] if "nucleus" in a else [])
    field = _collect(headers, "MagneticFieldStrength", "FieldStrength")
    if not field:
        try:
            mhz = float(f0[0]) if f0 else float(a["spectrometer_frequency_mhz"])
            gamma = GYROMAGNETIC_MHZ_PER_T.get(nucleus[0] if nucleus else "1H", 42.577478)
            field = [f"{mhz / gamma:.2f} (from the spectrometer frequency {mhz:.3f} MHz)"]
        except (KeyError, ValueError, TypeError):
            field = []
    model = _collect(headers, "ManufacturersModelName")
    software = _collect(headers, "SoftwareVersions")
    model_sw = NOT_IN_HEADER if not (model or software) else (
        f"model {_join(model)}; software {_join(software)}")
    coils = []
    for label, keys in (("transmit", ("TxCoil", "TransmitCoilName")),
                        ("receive", ("RxCoil", "ReceiveCoilName", "ReceiveCoil"))):
        v = _collect(headers, *keys)
        if v:
            coils.append(f"{label}: {_join(v)}")
    nuc_text = f"nucleus {_join(nucleus)}; " if nucleus else ""
    coil_text = nuc_text + ("; ".join(coils) if coils else
                            "coil names " + NOT_IN_HEADER) + "; channels, type, body part: " + NOT_IN_HEADER

    return (SECTIONS[0], [
        ("a. Field strength [T]", _join(field)),
        ("b. Manufacturer", _join(_collect(headers, "Manufacturer"))),
        ("c. Model (hardware and software version)", model_sw),
        ("d. RF coils: nuclei, number of channels, type, body part", coil_text),
        ("e. Additional hardware", NOT_IN_HEADER),
    ])


def _acquisition(headers, a, pre):
    """Section 2: sequence, voxel, TR/TE, averages, other parameters, water suppression."""
    te = _collect(headers, "EchoTime")
    tr = _collect(headers, "RepetitionTime")
    te_ms = [f"{float(v) * 1000:g}" for v in te] if te else (
        [f"{float(a['te_ms']):g}"] if _finite(a.get("te_ms")) else [])
    tr_ms = [f"{float(v) * 1000:g}" for v in tr] if tr else (
        [f"{float(a['tr_ms']):g}"] if _finite(a.get("tr_ms")) else [])
    seq = _collect(headers, "SequenceName")
    prot = _collect(headers, "ProtocolName")
    if seq:
        seq_text = _join(seq) + (f" (protocol {_join(prot)})" if prot else "")
    elif prot:
        seq_text = f"protocol {_join(prot)} (sequence name {NOT_IN_HEADER})"
    else:
        seq_text = NOT_IN_HEADER
    affines = _json(a.get("affines"), [])
    vox = _voxel_sizes(headers + [{"affine": x} for x in affines if x is not None], dict(a))
    averages = _collect(headers, "NumberOfAverages", "NumberOfTransients", "Averages", "NSA")
    if not averages:
        counts = sorted({len(p["transients"]["dyn"]) for p in pre if p["transients"] is not None})
        averages = [f"{c} (transients in the preprocessing record)" for c in counts]
    extra = []
    if _finite(a.get("dwelltime_s")):
        extra.append(f"spectral width {1.0 / float(a['dwelltime_s']):.0f} Hz")
    if _finite(a.get("n_points")):
        extra.append(f"{int(float(a['n_points']))} points")
    for key, label, scale, unit in (("ExcitationFlipAngle", "flip angle", 1, "deg"),
                                    ("TxOffset", "transmit offset", 1, "ppm"),
                                    ("MixingTime", "TM", 1000, "ms"),
                                    ("InversionTime", "TI", 1000, "ms")):
        v = _collect(headers, key)
        if v:
            try:
                extra.append(f"{label} {float(v[0]) * scale:g} {unit}")
            except ValueError:
                extra.append(f"{label} {v[0]}")
    ws = _collect(headers, "WaterSuppressionType")
    ws_on = _collect(headers, "WaterSuppressed")
    ws_text = _join(ws) if ws else (f"water suppressed: {_join(ws_on)}; method {NOT_IN_HEADER}"
                                   if ws_on else NOT_IN_HEADER)
    trig = _collect(headers, "SequenceTriggered")

    return (SECTIONS[1], [
        ("a. Pulse sequence", seq_text),
        ("b. Volume of interest (VOI) location", NOT_IN_HEADER),
        ("c. Nominal VOI size [cm3, mm3]", _join(vox)),
        ("d. Repetition time (TR), echo time (TE) [ms]",
         f"TR {_join(tr_ms, 'ms')}, TE {_join(te_ms, 'ms')}"),
        ("e. Total number of excitations or acquisitions per spectrum", _join(averages)),
        ("f. Additional sequence parameters", ", ".join(extra) or NOT_IN_HEADER),
        ("g. Water suppression method", ws_text),
        ("h. Shimming method, reference peak and thresholds", NOT_IN_HEADER),
        ("i. Triggering or motion correction method",
         f"sequence triggered: {_join(trig)}" if trig else NOT_IN_HEADER),
    ])


def _analysis(ds, a, pre):
    """Section 3: software, processing steps, output measures, quantification assumptions."""
    opts = _json(a.get("model_options"), {})
    opt_text = (", ".join(f"{k}={v}" for k, v in opts.items() if k != "ppm_range")
                if isinstance(opts, dict) else str(opts))
    steps = []
    for p in pre:
        for s in p["steps"]:
            method = s.split(":")[0]
            if method not in steps:
                steps.append(method)
    water = [w for w in _json(a.get("water_references"), []) if w]
    has_mm = "conc_mm" in ds and np.isfinite(np.asarray(ds["conc_mm"].values, float)).any()
    outputs = "ratios to tCr (amplitude / amplitude of Cr+PCr)"
    if has_mm:
        outputs += "; water-scaled concentrations (mM)"
    quant = (f"basis: {basis_label(a.get('basis_source', NOT_IN_HEADER))}; fit range {a.get('ppm_min', '?')}"
             f"-{a.get('ppm_max', '?')} ppm; model: {opt_text or 'defaults'}")
    quant += ("; water reference: " + (f"{len(water)} file(s)" if water else "none")
              + "; relaxation and tissue corrections: see quantification settings")

    return (SECTIONS[2], [
        ("a. Analysis software", software_label(a.get("software_version"))),
        ("b. Processing steps deviating from quoted reference or product",
         ("preprocessing applied: " + ", ".join(steps)) if steps else
         "no preprocessing record in the fit results"),
        ("c. Output measure", outputs),
        ("d. Quantification references and assumptions, fitting model assumptions", quant),
    ])


def _quality(ds):
    """Section 4: reported SNR and linewidth, exclusions, fit quality."""
    status = [str(s) for s in ds["status"].values] if "status" in ds else []
    n_fail = sum(s.lower().startswith("failed") for s in status)
    n_flag = sum(s != "ok" and not s.lower().startswith("failed") for s in status)
    snr = _stat(ds, "snr")
    snr_l = _stat(ds, "snr_lcmodel")
    fwhm = _stat(ds, "fwhm_hz", " Hz")
    fwhm_ppm = _stat(ds, "fwhm_ppm", " ppm")
    fqn = _stat(ds, "fqn")
    reported = "; ".join(x for x in [
        f"SNR (NAA peak / noise SD) {snr}" if snr else None,
        f"SNR (LCModel convention) {snr_l}" if snr_l else None,
        f"FWHM {fwhm} = {fwhm_ppm}" if fwhm else None] if x) or "not available (failed fits)"

    return (SECTIONS[3], [
        ("a. Reported variables (SNR, linewidth with reference peaks)", reported),
        ("b. Data exclusion criteria",
         f"status not 'ok' is reported per spectrum (failed, low SNR, broad lines, lipid, "
         f"artefact, poor fit); here {n_fail} failed and {n_flag} flagged of {len(status)}; "
         f"CRLB limits: main metabolites > 20 %, low-concentration metabolites judged on "
         f"absolute CRLB"),
        ("c. Quality measures of postprocessing model fitting",
         "CRLB (% and absolute) per metabolite; fit-quality number (FQN) "
         + (fqn or "n/a") + "; residual shown on each spectrum page"),
        ("d. Sample spectrum", "see the per-spectrum pages of report.pdf"),
    ])


def _finite(x):
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def to_markdown(table, *, title="MRSinMRS checklist") -> str:
    """The checklist as a Markdown document (one table per section)."""
    lines = [f"# {title}", "",
             "Minimum reporting standards for in vivo MRS (Lin et al., NMR Biomed 2021;34:e4484). "
             f"Filled by mrsquant from the file headers and the analysis settings; items marked "
             f"\"{NOT_IN_HEADER}\" are for the authors to complete.", ""]
    for section, items in table:
        lines += [f"## {section}", "", "| Item | Value |", "|---|---|"]
        for item, value in items:
            v = str(value).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {item} | {'**' + v + '**' if v == NOT_IN_HEADER else v} |")
        lines.append("")
    return "\n".join(lines)


def write_markdown(table, path) -> Path:
    """Write :func:`to_markdown` to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(to_markdown(table), encoding="utf-8")
    return path


def draw_page(fig, table):
    """Draw the checklist on an A4 portrait ``Figure``."""
    fig.text(0.05, 0.975, "MRSinMRS checklist", fontsize=13, fontweight="bold", va="top")
    fig.text(0.05, 0.955, textwrap.fill(
        "Minimum reporting standards for in vivo MRS (Lin et al., NMR Biomed 2021). Filled from "
        f"the file headers and the analysis settings; items marked \"{NOT_IN_HEADER}\" (red) are "
        "for the authors to complete. Also written as mrsinmrs.md.", 120),
        fontsize=7, va="top", color="#333333")
    y = 0.915
    line_h = 0.0125
    for section, items in table:
        fig.text(0.05, y, section, fontsize=10, fontweight="bold", va="top")
        y -= 0.02
        for item, value in items:
            item_lines = textwrap.wrap(item, 42)
            val_lines = textwrap.wrap(str(value), 78)
            missing = value == NOT_IN_HEADER
            for k, ln in enumerate(item_lines):
                fig.text(0.06, y - k * line_h, ln, fontsize=7, va="top")
            for k, ln in enumerate(val_lines):
                fig.text(0.40, y - k * line_h, ln, fontsize=7, va="top",
                         color="#c00000" if missing else "black",
                         fontstyle="italic" if missing else "normal")
            y -= line_h * max(len(item_lines), len(val_lines)) + 0.004
        y -= 0.012
