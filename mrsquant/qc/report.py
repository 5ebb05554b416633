"""QC PDF report of a fit: one page per spectrum, cohort summary, MRSinMRS checklist.

``render_report(ds, "report.pdf")`` draws the Dataset of docs/fit_outputs.md
(``FitResult.to_xarray()`` or ``open_fit(OUTDIR/fit.nc)``); ``report_from_outdir``
regenerates the report of a fit output folder without refitting.

Pages, in order:

1. cohort summary (only with more than one spectrum): overlay of all spectra (mean +/- SD),
   distributions of SNR, FWHM and CRLB with outliers named, then a per-metabolite summary
   and the table of excluded/flagged spectra (as many pages as needed);
2. one page per spectrum: spectrum, fit, baseline and residual on a 4.2 -> 0.2 ppm axis,
   the stacked metabolite components, the amplitude/CRLB table with flags, QC numbers,
   inputs and model options, preprocessing (before/after, drift and phase) when given,
   the water reference fit when present; a failed fit gets a page that says what failed;
   an edited fit (MEGA DIFF basis, HERMES/HERCULES joint fit) gets a second page with each
   difference spectrum: data, fit, residual and the fitted GABA/MM3co/GSH (qc/difference.py);
3. the MRSinMRS checklist (Lin et al. 2021), also written as ``mrsinmrs.md``.

Everything is drawn on ``matplotlib.figure.Figure`` objects (no pyplot state) and
written with ``PdfPages`` to a temporary file that replaces ``path`` at the end.
"""
from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np

from ..basis.names import COMBINED
from ..errors import InputError
from ..files import atomic_path
from ..fitting import open_fit
from ..fitting.model import FitOptions
from . import cohort, difference, mrsinmrs, style
from .notes import reliability_notes
from .preprocessing import normalise_preprocessing, preprocessing_entry  # noqa: F401  (re-exported)
from .style import A4_PORTRAIT, PPM_DISPLAY, RC, crlb_flag, format_value, metabolite_colour, status_kind
from .style import display_mask as _display_mask


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------
def _json_attr(ds, key, default):
    value = ds.attrs.get(key, default)
    if isinstance(value, (bytes, str)):
        try:
            return json.loads(value)
        except (ValueError, TypeError):
            return value
    return value


def _per_spectrum(value, names):
    """A list aligned with ``names`` from a list, a dict keyed by name, or one item."""
    if value is None:
        return [None] * len(names)
    if isinstance(value, dict) and any(n in value for n in names):
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) == len(names):
            return list(value)
        if len(names) == 1:
            return [value]
        return [None] * len(names)
    return [value] * len(names) if len(names) == 1 else [None] * len(names)


def load_results(outdir):
    """Read a fit output folder: ``(ds, concentrations, qc)``.

    ``ds`` comes from ``fit.nc`` (through ``mrsquant.fitting.open_fit`` when available);
    the two tables are read as strings (pandas DataFrames) so the report prints the
    numbers exactly as the files hold them; they are None when absent.
    """
    import pandas as pd  # lazy: heavy

    outdir = Path(outdir)
    if not outdir.is_dir():
        raise InputError(f"{outdir}: not a folder (expected a fit output folder with fit.nc)")
    nc = outdir / "fit.nc"
    if not nc.is_file():
        raise InputError(f"{outdir}: no fit.nc (run `mrsquant fit ... -o {outdir}` first)")
    ds = open_fit_file(nc)
    tables = []
    for name in ("concentrations.tsv", "qc.tsv"):
        f = outdir / name
        if f.is_file():
            try:
                tables.append(pd.read_csv(f, sep="\t", dtype=str, keep_default_na=False))
            except Exception as exc:  # pandas raises several types for a bad table
                raise InputError(f"{f}: cannot read the table ({exc})") from None
        else:
            tables.append(None)
    return ds, tables[0], tables[1]


def open_fit_file(path):
    """Open ``fit.nc`` with :func:`mrsquant.fitting.open_fit`; one-line error on a bad file."""
    path = Path(path)
    try:
        return open_fit(path)
    except InputError:
        raise
    except Exception as exc:  # corrupt or foreign file
        raise InputError(f"{path}: cannot read the fit file ({type(exc).__name__}: {exc})") from None


def _check_dataset(ds):
    missing = [v for v in ("data", "amplitude", "status") if v not in ds]
    if missing or "spectrum" not in ds.dims or "ppm" not in ds.coords:
        raise InputError("the fit Dataset lacks " + ", ".join(missing or ["spectrum/ppm"])
                         + " (see docs/fit_outputs.md)")


# ---------------------------------------------------------------------------
# one spectrum
# ---------------------------------------------------------------------------
def _get(ds, var, i, default=np.nan):
    if var not in ds:
        return default
    v = ds[var].values[i]
    return v


def _num(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return x


def _shorten(text: str, width: int) -> str:
    text = str(text)
    if len(text) <= width:
        return text
    keep = width - 3
    return text[: keep // 3] + "..." + text[-(keep - keep // 3):]


def _input_for(name, i, inputs, n_spectra):
    """The input path of spectrum ``i``: by position when the list matches the spectra,
    else the input whose file name (without extension) is the spectrum name."""
    if len(inputs) == n_spectra:
        return str(inputs[i])
    for p in inputs:
        base = Path(str(p)).name
        for ext in (".nii.gz", ".nii", ".txt", ".RAW", ".raw", ".SDAT", ".sdat", ".dat", ".rda"):
            if base.endswith(ext):
                base = base[: -len(ext)]
                break
        if base == name or Path(str(p)).stem == name:
            return str(p)
    return "n/a"


#: advance width of DejaVu Sans Mono (regular and bold), in em
MONO_ADVANCE_EM = 1233 / 2048


#: significant figures of every number on a report page (the TSV files keep 6)
REPORT_DIGITS = 3


def _sig3(value) -> str:
    """A cell from a table file or a Dataset, printed to :data:`REPORT_DIGITS` significant figures."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    return format_value(x, REPORT_DIGITS)


def _table_rows(ds, i, concentrations, limit_percent):
    """Rows of the per-spectrum table: ``(name, cells, flagged, main)``."""
    names = [str(m) for m in ds["metabolite"].values] if "metabolite" in ds.coords else []
    spec = str(ds["spectrum"].values[i])
    lookup = {}
    if concentrations is not None and len(concentrations):
        sub = concentrations[concentrations["spectrum"].astype(str) == spec]
        lookup = {str(m): r for m, r in zip(sub["metabolite"], sub.to_dict("records"))}
    has_mm = "conc_mm" in ds and np.isfinite(np.asarray(ds["conc_mm"].values, float)).any()
    nan = np.full(len(names), np.nan)
    vals = {v: (np.asarray(ds[v].values[i], float) if v in ds else nan)
            for v in ("amplitude", "crlb_abs", "crlb_percent", "ratio_tcr", "conc_mm")}
    cols = ["amplitude", "ratio_tcr"] + (["conc_mm"] if has_mm else []) + ["crlb_percent", "crlb_abs"]
    rows = []
    for j, name in enumerate(names):
        row = lookup.get(name)
        cells = {c: _sig3(row[c] if row is not None and c in row else vals[c][j]) for c in cols}
        flagged = crlb_flag(name, vals["amplitude"][j], vals["crlb_abs"][j], vals["crlb_percent"][j],
                            limit_percent=limit_percent)
        rows.append((name, cells, flagged, name in style.MAIN_METABOLITES))
    return rows, has_mm


def _draw_table(fig, rows, has_mm, box, *, failed=False, limit_percent=style.CRLB_LIMIT_PERCENT):
    """Amplitude/CRLB table in ``box`` (x0, y0, x1, y1), figure coordinates.

    Numbers are set in a monospaced font, one text per row (fast to draw and
    exactly aligned); flagged cells are overdrawn in red bold at their column.
    """
    x0, y0, x1, y1 = box
    cols = [("amplitude", "Amplitude"), ("ratio_tcr", "/tCr")]
    if has_mm:
        cols.append(("conc_mm", "mM"))
    cols += [("crlb_percent", "CRLB %"), ("crlb_abs", "CRLB abs")]
    longest = max((len(c) for _, cells, _, _ in rows for c in cells.values()), default=8)
    width = max(10, longest + 2, max(len(t) for _, t in cols) + 2)  # characters per column
    n = max(len(rows), 1)
    row_h = min((y1 - y0 - 0.03) / (n + 1.3), 0.0118)
    fs = max(4.5, min(6.5, row_h * A4_PORTRAIT[1] * 72 * 0.75))
    char_w = MONO_ADVANCE_EM * fs / 72 / A4_PORTRAIT[0]  # figure fraction per character
    x_num = x1 - width * len(cols) * char_w  # left edge of the numeric block
    mono = {"family": "DejaVu Sans Mono", "size": fs}
    y = y1
    fig.text(x0 + 0.018, y, "Metabolite", ha="left", va="top", fontsize=fs, fontweight="bold")
    fig.text(x_num, y, "".join(f"{t:>{width}}" for _, t in cols), ha="left", va="top",
             fontdict=mono, fontweight="bold")
    y -= row_h * 1.15
    fig.add_artist(_hline(fig, x0, x1, y + row_h * 0.1))
    y -= row_h * 0.15
    if not rows:
        fig.text(x0, y - row_h, "no metabolites in the fit", fontsize=fs, va="top")
    ys, colours = [], []
    for name, cells, flagged, main in rows:
        ys.append(y)
        colours.append(metabolite_colour(name))
        fig.text(x0 + 0.018, y, name, fontsize=fs, va="top", ha="left",
                 fontweight="bold" if main or name in COMBINED else "normal")
        texts, special = [], []
        for k, (key, _) in enumerate(cols):
            text = cells.get(key, "")
            if text == "" or text.lower() == "nan":
                text = "n/a" if failed else "\u2013"
            red = flagged and ((key == "crlb_percent" and main) or (key == "crlb_abs" and not main))
            bold = red or (key == "crlb_abs" and not main and not style.is_nuisance(name))
            if bold:
                special.append((k, text, red))
                text = ""
            texts.append(f"{text:>{width}}")
        fig.text(x_num, y, "".join(texts), fontdict=mono, va="top", ha="left")
        for k, text, red in special:
            fig.text(x_num + (k + 1) * width * char_w, y, text, fontdict=mono, va="top", ha="right",
                     fontweight="bold", color=style.FLAG_COLOUR if red else "black")
        y -= row_h
    if ys:  # colour keys: one artist for all rows
        from matplotlib.lines import Line2D  # lazy: heavy

        for yy, c in zip(ys, colours):
            fig.add_artist(Line2D([x0 + 0.004], [yy - row_h * 0.45], marker="s", ms=fs * 0.8,
                                  color=c, transform=fig.transFigure, ls=""))
    note = (f"Red: CRLB over its limit. Main metabolites ({', '.join(style.MAIN_METABOLITES)}): "
            f"CRLB > {limit_percent:g} %. The others (low concentration, e.g. GABA, GSH, "
            f"Gln; Kreis 2016) are judged on the absolute CRLB (bold): flagged when the amplitude "
            f"is below {style.DETECTION_CRLB_MULTIPLE:g} CRLB. Empty: not available.")
    fig.text(x0, max(y - row_h * 0.2, 0.03), textwrap.fill(note, 100), fontsize=5.3,
             va="top", ha="left", color="#444444")


def _hline(fig, x0, x1, y):
    from matplotlib.lines import Line2D  # lazy: heavy

    return Line2D([x0, x1], [y, y], transform=fig.transFigure, color="black", lw=0.5)


def _spectrum_panel(ax, ppm, i, ds, failed, reason):
    m = _display_mask(ppm)
    x = ppm[m]
    data = np.asarray(ds["data"].values[i], complex)[m].real
    fit = np.asarray(ds["fit"].values[i], complex)[m].real if "fit" in ds else np.full_like(x, np.nan)
    base = (np.asarray(ds["baseline"].values[i], complex)[m].real if "baseline" in ds
            else np.full_like(x, np.nan))
    finite_data = np.isfinite(data).any()
    if finite_data:
        ax.plot(x, data, color=style.DATA_COLOUR, lw=0.7, label="data")
    have_fit = np.isfinite(fit).any()
    if have_fit:
        ax.plot(x, fit, color=style.FIT_COLOUR, lw=0.9, label="fit")
        if np.isfinite(base).any():
            ax.plot(x, base, color=style.BASELINE_COLOUR, lw=0.8, ls="--", label="baseline")
        if finite_data:
            resid = data - fit
            top = np.nanmax(np.maximum(data, fit))
            span = top - min(np.nanmin(data), np.nanmin(fit))
            offset = top + 0.08 * span - np.nanmin(resid)
            ax.plot(x, resid + offset, color=style.RESIDUAL_COLOUR, lw=0.6, label="residual (offset)")
            ax.axhline(offset, color=style.RESIDUAL_COLOUR, lw=0.3, ls=":")
    if not have_fit:
        ax.text(0.5, 0.5, textwrap.fill(f"no fit: {reason}", 75), transform=ax.transAxes,
                ha="center", va="center",
                color=style.FLAG_COLOUR, fontsize=10, fontweight="bold",
                bbox=dict(facecolor="white", edgecolor=style.FLAG_COLOUR))
    ax.set_xlim(*PPM_DISPLAY)
    ax.set_xlabel("Chemical shift (ppm)")
    ax.set_ylabel("Signal, real part (a.u.)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))   # short tick labels: the label stays on the page
    ax.set_title("Spectrum, fit, baseline and residual", loc="left", fontweight="bold")
    if finite_data or have_fit:
        ax.legend(loc="upper left", ncol=4, frameon=False, fontsize=6.5, handlelength=1.5,
                  borderaxespad=0.2)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.12 * (hi - lo))  # room for the legend
    ax.tick_params(direction="out", length=2.5)


def _text_width_pt(text: str, size: float, weight: str = "normal") -> float:
    from matplotlib.font_manager import FontProperties  # lazy: heavy
    from matplotlib.textpath import TextPath  # lazy: heavy

    prop = FontProperties(family=RC["font.family"], weight=weight)
    return float(TextPath((0, 0), text, size=size, prop=prop).get_extents().width)


def _fit_note(prefix: str, names, ax, size: float, title_pt: float = 9.0) -> str:
    """``prefix`` + as many ``names`` as fit beside the panel title (``+N more`` for the rest)."""
    fig = ax.figure
    room = ax.get_position().width * fig.get_figwidth() * 72 - 1.1 * _text_width_pt(
        ax.get_title(loc="left"), title_pt, "bold") - 14
    for n in range(len(names), 0, -1):
        text = prefix + ", ".join(names[:n]) + (f" +{len(names) - n} more" if n < len(names) else "")
        if _text_width_pt(text, size) <= room:
            return text
    return prefix.rstrip(": ") + f" ({len(names)})"


def _components_panel(ax, ppm, i, ds, failed):
    m = _display_mask(ppm)
    x = ppm[m]
    ax.set_title("Metabolite components (stacked)", loc="left", fontweight="bold")
    ax.set_xlim(*PPM_DISPLAY)
    ax.set_xlabel("Chemical shift (ppm)")
    ax.set_yticks([])
    if "components" not in ds or failed:
        ax.text(0.5, 0.5, "no components: the fit failed" if failed else "no components stored",
                transform=ax.transAxes, ha="center", va="center", color="#555555")
        return
    names = [str(b) for b in ds["basis_metabolite"].values]
    comp = np.asarray(ds["components"].values[i], complex)[:, m].real
    peak = np.nanmax(np.abs(comp), axis=1) if comp.size else np.array([])
    finite = peak[np.isfinite(peak)]
    biggest = finite.max() if finite.size else 0.0
    keep = [k for k in range(len(names)) if np.isfinite(peak[k]) and peak[k] > 0.02 * biggest]
    dropped = [names[k] for k in range(len(names)) if k not in keep]
    if not keep:
        ax.text(0.5, 0.5, "all components are zero", transform=ax.transAxes, ha="center")
        return
    top = max(peak[k] for k in keep)
    step = top * max(0.35, 2.2 / max(len(keep), 1))
    # label size from the room each row has (points): rows closer than the text height
    # alternate between two columns, so no two labels overlap
    fig = ax.figure
    row_pt = ax.get_position().height * fig.get_figheight() * 72 / (len(keep) + 0.7)
    fs = float(np.clip(row_pt / 1.15, 4.5, 7.0))
    two_cols = row_pt < 1.2 * fs
    if two_cols:
        fs = float(np.clip(2 * row_pt / 1.15, 4.5, 7.0))
    label_tf = ax.get_yaxis_transform()          # x in axes fraction, y in data
    for rank, k in enumerate(keep):
        off = -rank * step
        colour = metabolite_colour(names[k])
        ax.plot(x, comp[k] + off, color=colour, lw=0.8)
        ax.text(1.005 + (0.07 if two_cols and rank % 2 else 0.0), off, names[k],
                color=style.label_colour(names[k]), fontsize=fs, va="center", ha="left",
                fontweight="bold", clip_on=False, transform=label_tf)
    upper = max(np.nanmax(comp[k]) - rank * step for rank, k in enumerate(keep))
    ax.set_ylim(-(len(keep) - 1) * step - 0.4 * step, upper + 0.3 * step)
    if dropped:
        ax.text(1.0, 1.01, _fit_note("not drawn (< 2 % of the largest): ", dropped, ax, 5.5),
                transform=ax.transAxes, fontsize=5.5, color="#555555", va="bottom", ha="right")
    ax.set_ylabel("Real part (a.u., offset)")     # fits the panel height: not clipped
    ax.tick_params(direction="out", length=2.5)


def _preproc_panels(fig, rect, pre, ppm_fit):
    """Preprocessing row: before/after spectra, alignment of transients, list of steps."""
    x0, y0, w, h = rect
    have_spec = pre["before"] is not None or pre["after"] is not None
    have_tr = pre["transients"] is not None
    x = x0
    ax1 = ax2 = None
    if have_spec:
        ax1 = fig.add_axes([x, y0, w * 0.37, h])
        x += w * 0.46
    if have_tr:
        ax2 = fig.add_axes([x, y0, w * 0.24, h])
        x += w * 0.35
    if pre["steps"]:
        x_text = x - (0.0 if (have_spec or have_tr) else 0.0)
        width_in = (x0 + w + 0.03 - x_text) * A4_PORTRAIT[0]
        chars = max(20, int(width_in * 72 / 3.1))
        fig.text(x_text, y0 + h + 0.016, "Preprocessing steps", fontsize=7, fontweight="bold",
                 va="top")
        lines = []
        for k, st in enumerate(pre["steps"]):
            wrapped = textwrap.wrap(f"{k + 1}. {st}", chars, subsequent_indent="   ")[:2]
            lines.extend(wrapped)
        max_lines = int((h + 0.03) / 0.0085)
        if len(lines) > max_lines:  # methods only, one line each
            lines = [_shorten(f"{k + 1}. {st.split(':')[0]}", chars)
                     for k, st in enumerate(pre["steps"])]
        if len(lines) > max_lines:
            lines = lines[: max_lines - 1] + [f"... ({len(pre['steps'])} steps in all)"]
        for k, ln in enumerate(lines):
            fig.text(x_text, y0 + h - 0.002 - k * 0.0085, ln, fontsize=5.5, va="top")
    if ax1 is not None:
        ppm = pre["ppm"] if pre["ppm"] is not None else ppm_fit
        m = _display_mask(ppm)
        for key, colour, label in (("before", "#999999", "before"), ("after", "#1f77b4", "after")):
            arr = pre[key]
            if arr is None:
                continue
            arr = np.atleast_2d(arr)
            if arr.shape[-1] != ppm.size:
                continue
            mean = arr.mean(axis=0)
            ax1.plot(ppm[m], mean.real[m], color=colour, lw=0.8, label=f"{label} (mean of {arr.shape[0]})"
                     if arr.shape[0] > 1 else label)
            if arr.shape[0] > 1:
                sd = arr.real.std(axis=0)
                ax1.fill_between(ppm[m], (mean.real - sd)[m], (mean.real + sd)[m], color=colour,
                                 alpha=0.25, lw=0)
        ax1.set_xlim(*PPM_DISPLAY)
        ax1.set_xlabel("Chemical shift (ppm)")
        ax1.set_ylabel("Signal (a.u.)")
        ax1.set_title("Preprocessing: before / after (\u00b1SD)", loc="left",
                      fontweight="bold", fontsize=7)
        ax1.legend(frameon=False, fontsize=6, loc="upper left")
    if ax2 is not None:
        tr = pre["transients"]
        dyn = np.asarray(tr["dyn"], float)
        rej = np.asarray(tr["rejected"], bool)
        title = "Transient alignment"
        if rej.any():
            title += f" ({int(rej.sum())} rejected: x)"
        ax2.set_title(title, loc="left", fontweight="bold", fontsize=7)
        lines = []
        if "freq_shift_hz" in tr:
            f = np.asarray(tr["freq_shift_hz"], float)
            lines += ax2.plot(dyn, f, "o-", color="#1f77b4", ms=2, lw=0.7, label="frequency shift (Hz)")
            if rej.any():
                ax2.plot(dyn[rej], f[rej], "x", color=style.FLAG_COLOUR, ms=5, mew=1.2)
        ax2.set_xlabel("Transient")
        ax2.set_ylabel("Frequency shift (Hz)", color="#1f77b4")
        if "phase_deg" in tr:
            ax3 = ax2.twinx()
            p = np.asarray(tr["phase_deg"], float)
            lines += ax3.plot(dyn, p, "s-", color="#ff7f0e", ms=2, lw=0.7, label="phase (deg)")
            ax3.set_ylabel("Phase (deg)", color="#ff7f0e")
            ax3.tick_params(labelsize=6)
        ax2.tick_params(labelsize=6)


def _qc_lines(ds, i, qc_row, pre, water_refs, inputs):
    def q(col, var):
        """qc.tsv's cell when the table is given, else the value formatted as qc.tsv does."""
        if qc_row is not None and col in qc_row.index and str(qc_row[col]) != "":
            return _sig3(qc_row[col])
        return _sig3(_get(ds, var, i)) or "n/a"

    lines = [
        ("SNR", q("snr", "snr") + "  (NAA peak height / noise SD)"),
        ("SNR LCModel", q("snr_lcmodel", "snr_lcmodel") + "  (max of fit / 2 RMS residual)"),
        ("FWHM", "n/a" if q("fwhm_hz", "fwhm_hz") == "n/a" else
         f"{q('fwhm_ppm', 'fwhm_ppm')} ppm = {q('fwhm_hz', 'fwhm_hz')} Hz"),
        ("Fit quality", q("fqn", "fqn") + "  (FQN: residual / noise variance)"),
    ]
    wf = q("water_fwhm_hz", "water_fwhm_hz")
    if water_refs or wf != "n/a":
        lines.append(("Water FWHM", wf if wf == "n/a" else f"{wf} Hz"))
    return lines


def _model_lines(ds, i, inputs, water_refs):
    opts = _json_attr(ds, "model_options", {})
    if isinstance(opts, dict):
        defaults = {k: str(v) for k, v in FitOptions().__dict__.items()}
        changed = {k: v for k, v in opts.items() if k != "ppm_range" and defaults.get(k) != str(v)}
        opt_text = ", ".join(f"{k}={v}" for k, v in changed.items())
    else:
        opt_text = str(opts)
    params = []
    for var, label, unit in (("phase0_deg", "phase0", "deg"), ("phase1_deg_per_ppm", "phase1", "deg/ppm"),
                             ("shift_hz", "shift", "Hz"), ("lw_lorentz_hz", "Lorentz lw", "Hz"),
                             ("lw_gauss_hz", "Gauss lw", "Hz")):
        if var in ds:
            x = np.asarray(ds[var].values[i], float).ravel()
            if x.size and np.isfinite(x).any():
                params.append(f"{label} {', '.join(f'{v:.3g}' for v in x[:3])} {unit}")
    if "voigt_weight" in ds and ds["voigt_weight"].size:
        params.append(f"Voigt weight {float(ds['voigt_weight'].values[i]):.2f} (vs Lorentzian)")
    a = ds.attrs
    acq = []
    if "spectrometer_frequency_mhz" in a:
        acq.append(f"{_num(a['spectrometer_frequency_mhz']):g} MHz")      # header values as given
    for key, label in (("te_ms", "TE"), ("tr_ms", "TR")):
        if key in a and math.isfinite(_num(a[key])):
            acq.append(f"{label} {_num(a[key]):g} ms")
    if "dwelltime_s" in a:
        acq.append(f"BW {1.0 / _num(a['dwelltime_s']):.0f} Hz")
    n = ds.sizes["spectrum"]
    name = str(ds["spectrum"].values[i])
    water = water_refs[i] if len(water_refs) == n else "n/a"
    out = [("Input", _shorten(_input_for(name, i, inputs, n), 120)),     # 3 lines, middle elided
           ("Water ref.", _shorten(water or "none", 120)),
           ("Acquisition", ", ".join(acq) or "n/a"),
           ("Basis", style.basis_label(a.get("basis_source", "n/a"))),
           ("Model", f"fit {_num(a.get('ppm_min', np.nan)):g}-{_num(a.get('ppm_max', np.nan)):g} ppm; "
                     + (f"options changed: {opt_text}" if opt_text else "default options")),
           ("Fitted", "; ".join(params) or "n/a")]
    warned = _json_attr(ds, "basis_warnings", []) or []
    if warned:
        out.insert(4, ("BASIS CHECK", "; ".join(map(str, warned))))
    return [("NOTE", note) for note in reliability_notes(ds, i)] + out   # notes first: never cut off


def _draw_keyvals(fig, x, y, items, *, width_chars=42, fs=6.3, line_h=0.0098, key_w=0.11,
                  y_min=0.03, max_lines=3, split_lines=False):
    """Key/value lines from ``y`` down; stops (with "...") above ``y_min``. Returns new y.
    ``split_lines``: a value's newlines start new lines (each wrapped on its own)."""
    for n_done, (key, value) in enumerate(items):
        parts = str(value).split("\n") if split_lines else [str(value)]
        wrapped = [w for part in parts for w in (textwrap.wrap(part, width_chars, break_long_words=True)
                                                  or [""])] or [""]
        if len(wrapped) > max_lines:
            wrapped = wrapped[:max_lines]
            wrapped[-1] = wrapped[-1][: width_chars - 3] + "..."
        if y - line_h * len(wrapped) < y_min:
            fig.text(x, y, f"... {len(items) - n_done} more lines not shown", fontsize=fs,
                     va="top", color="#666666")
            return y - line_h
        fig.text(x, y, key, fontsize=fs, fontweight="bold", va="top", ha="left")
        for k, ln in enumerate(wrapped):
            fig.text(x + key_w, y - k * line_h, ln, fontsize=fs, va="top", ha="left")
        y -= line_h * len(wrapped) + line_h * 0.2
    return y


def _water_panel(fig, rect, ds, i):
    if "water_data" not in ds:
        return False
    wdim = [d for d in ds["water_data"].dims if d != "spectrum"]
    if not wdim:
        return False
    ppm = np.asarray(ds[wdim[0]].values, float)
    d = np.asarray(ds["water_data"].values[i], complex).real
    ax = fig.add_axes(rect)
    ax.set_title("Water reference fit", loc="left", fontweight="bold")
    ax.set_xlim(5.65, 3.65)
    ax.set_xticks([5.5, 5.0, 4.5, 4.0])
    ax.set_xlabel("Chemical shift (ppm)")
    ax.set_yticks([])
    if not np.isfinite(d).any():
        ax.text(0.5, 0.5, "no water\nreference data", transform=ax.transAxes, ha="center",
                va="center", color="#555555")
        return False
    ax.plot(ppm, d, color="black", lw=0.7, label="water")
    if "water_fit" in ds:
        ax.plot(ppm, np.asarray(ds["water_fit"].values[i], complex).real, color=style.FIT_COLOUR,
                lw=0.8, label="fit")
    ax.legend(frameon=False, fontsize=6, loc="upper left")
    return True


def _layout(n_rows: int, preprocessing: bool):
    """Panel rectangles ``(bottom, height)`` for fit, components, preprocessing, and the table
    top, in figure fractions. Long tables (> 26 rows) take height from the two spectrum panels."""
    extra = float(np.clip((n_rows - 26) * 0.0095, 0.0, 0.10))
    if preprocessing:
        top, h_fit, h_comp, h_pre = 0.90, 0.215, 0.15, 0.07
    else:
        top, h_fit, h_comp, h_pre = 0.905, 0.275, 0.21, 0.0
    h_fit -= 0.45 * extra
    h_comp -= 0.55 * extra
    fit_bottom = top - h_fit
    comp_bottom = fit_bottom - 0.055 - h_comp
    if preprocessing:
        pre_bottom = comp_bottom - 0.065 - h_pre
        return (fit_bottom, h_fit), (comp_bottom, h_comp), (pre_bottom, h_pre), pre_bottom - 0.075
    return (fit_bottom, h_fit), (comp_bottom, h_comp), None, comp_bottom - 0.06


def _page_header(fig, ds, name, status, kind, failed, src) -> None:
    """Title, status line, input and software version at the top of a spectrum page."""
    fig.text(0.05, 0.975, f"mrsquant QC report \u2013 {name}", fontsize=13, fontweight="bold",
             va="top")
    fig.text(0.05, 0.952, "Status:", fontsize=9, fontweight="bold", va="top")
    width = 67 if failed else 80
    head = status if len(status) <= width else status[: width - 3] + "..."
    fig.text(0.115, 0.952, ("FIT FAILED \u2013 " + head) if failed else head,
             fontsize=9, fontweight="bold", va="top", color=style.STATUS_COLOURS[
                 "failed" if failed else kind])
    fig.text(0.05, 0.935, f"Input: {_shorten(src, 95)}", fontsize=7, va="top", color="#333333")
    fig.text(0.95, 0.975, style.software_label(ds.attrs.get("software_version")), fontsize=7,
             ha="right", va="top", color="#555555")


def _side_column(fig, ds, i, table_top, quality, model_lines, status, kind, failed) -> None:
    """The right-hand column beside the table: quality numbers, status and its reasons, inputs/model."""
    x = 0.585
    fig.text(x, table_top + 0.012, "Quality", fontsize=8, fontweight="bold", va="bottom")
    y = _draw_keyvals(fig, x, table_top, quality)
    fig.text(x, y, "Status", fontsize=6.3, fontweight="bold", va="top")
    status_lines = textwrap.wrap(status, 42)[:3] or [""]
    for k, ln in enumerate(status_lines):
        fig.text(x + 0.11, y - k * 0.0098, ln, fontsize=6.3, va="top",
                 color=style.STATUS_COLOURS["failed" if failed else kind], fontweight="bold")
    y -= 0.0098 * len(status_lines) + 0.002
    reasons = str(_get(ds, "reasons", i, "") or "")
    if reasons and reasons != "nan" and not failed:
        y = _draw_keyvals(fig, x, y, [("Why", reasons.replace("; ", "\n"))], max_lines=8, split_lines=True)
    y -= 0.006
    fig.text(x, y, "Inputs and model", fontsize=8, fontweight="bold", va="top")
    y -= 0.016
    _draw_keyvals(fig, x, y, model_lines)


def draw_spectrum_page(fig, ds, i, *, concentrations=None, qc=None, preprocessing=None,
                       crlb_limit_percent=style.CRLB_LIMIT_PERCENT):
    """Draw the page of spectrum ``i`` of ``ds`` on an A4 portrait ``Figure``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    ds : xarray.Dataset
        The fit Dataset (docs/fit_outputs.md).
    i : int
        Index along ``spectrum``.
    concentrations, qc : pandas.DataFrame, optional
        ``concentrations.tsv`` / ``qc.tsv`` read as strings; their cells are printed
        verbatim so the page shows the numbers of the files.
    preprocessing : dict, optional
        This spectrum's record, see :func:`normalise_preprocessing`.
    """
    ppm = np.asarray(ds["ppm"].values, float)
    name = str(ds["spectrum"].values[i])
    status = str(_get(ds, "status", i, "unknown"))
    kind = status_kind(status)
    fit_arr = np.asarray(ds["fit"].values[i]) if "fit" in ds else np.array([np.nan])
    failed = kind == "failed" or not np.isfinite(fit_arr).any()
    reason = status if kind == "failed" else "the fit arrays are empty (NaN)"
    inputs = _json_attr(ds, "inputs", [])
    inputs = inputs if isinstance(inputs, list) else [str(inputs)]
    water_refs = _json_attr(ds, "water_references", [])
    water_refs = water_refs if isinstance(water_refs, list) else [str(water_refs)]
    pre = normalise_preprocessing(preprocessing)
    has_pre_plot = (pre["transients"] is not None or pre["before"] is not None
                    or pre["after"] is not None or bool(pre["steps"]))
    qc_row = None
    if qc is not None and len(qc):
        sub = qc[qc["spectrum"].astype(str) == name]
        qc_row = sub.iloc[0] if len(sub) else None

    _page_header(fig, ds, name, status, kind, failed, _input_for(name, i, inputs, ds.sizes["spectrum"]))

    n_rows = ds.sizes.get("metabolite", 0)
    r_fit, r_comp, r_pre, table_top = _layout(n_rows, has_pre_plot)
    ax = fig.add_axes([0.09, r_fit[0], 0.82, r_fit[1]])
    _spectrum_panel(ax, ppm, i, ds, failed, reason)
    water_drawn = "water_data" in ds
    axc = fig.add_axes([0.09, r_comp[0], 0.57 if water_drawn else 0.8, r_comp[1]])
    _components_panel(axc, ppm, i, ds, failed)
    if r_pre is not None:
        _preproc_panels(fig, [0.09, r_pre[0], 0.82, r_pre[1]], pre, ppm)

    rows, has_mm = _table_rows(ds, i, concentrations, crlb_limit_percent)
    fig.text(0.05, table_top + 0.012, "Amplitudes and Cramer-Rao lower bounds (CRLB)", fontsize=8,
             fontweight="bold", va="bottom")
    _draw_table(fig, rows, has_mm, (0.05, 0.035, 0.55, table_top), failed=failed,
                limit_percent=crlb_limit_percent)

    _side_column(fig, ds, i, table_top, _qc_lines(ds, i, qc_row, pre, water_refs, inputs),
                 _model_lines(ds, i, inputs, water_refs), status, kind, failed)
    if water_drawn:
        _water_panel(fig, [0.775, r_comp[0], 0.175, r_comp[1]], ds, i)
    fig.text(0.5, 0.012, f"{name} \u2013 ppm axis referenced to water at 4.65 ppm unless the input "
             "says otherwise; real parts after the fitted zero/first-order phase", fontsize=5.5,
             ha="center", color="#666666")


# ---------------------------------------------------------------------------
# the whole report
# ---------------------------------------------------------------------------
def _new_page(landscape=False):
    from matplotlib.figure import Figure  # lazy: heavy

    return Figure(figsize=style.A4_LANDSCAPE if landscape else A4_PORTRAIT)


def render_report(ds, path, *, preprocessing=None, concentrations=None, qc=None,
                  mrsinmrs_path=None, crlb_limit_percent=style.CRLB_LIMIT_PERCENT,
                  title=None, voxel_pictures=None):
    """Write the QC report of a fit as a PDF.

    Parameters
    ----------
    ds : xarray.Dataset
        Fit results laid out as docs/fit_outputs.md (``FitResult.to_xarray()`` or
        ``mrsquant.fitting.open_fit``).
    path : str or Path
        The PDF to write (replaced atomically).
    preprocessing : dict or list, optional
        Per spectrum (dict keyed by spectrum name, or a list aligned with ``spectrum``)
        preprocessing record, see :func:`normalise_preprocessing`. Default: the
        ``preprocessing`` attribute of ``ds`` (JSON).
    concentrations, qc : pandas.DataFrame or path, optional
        ``concentrations.tsv`` and ``qc.tsv``; when given their cells are printed as
        the files hold them.
    mrsinmrs_path : str, Path or False, optional
        Where to write the MRSinMRS checklist as Markdown; default ``mrsinmrs.md``
        next to ``path``; False to skip.
    crlb_limit_percent : float
        Relative CRLB limit for the main metabolites (default 20 %).
    title : str, optional
        Title of the cohort summary.
    voxel_pictures : dict, optional
        ``{spectrum name: voxel.png}`` (``fit --t1``): the voxel on its T1, three orthogonal
        slices with the outline, drawn below that spectrum's page as a page of its own.

    Returns
    -------
    pathlib.Path
        The PDF written.

    Notes
    -----
    Page order: (cohort summary pages when there is more than one spectrum), one page
    per spectrum (followed by its difference-spectra page for an edited fit), the MRSinMRS
    checklist page.
    """
    import matplotlib  # lazy: heavy
    import pandas as pd  # lazy: heavy
    from matplotlib.backends.backend_pdf import PdfPages  # lazy: heavy

    _check_dataset(ds)
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"{path.parent}: folder does not exist")
    concentrations = _read_table(concentrations, pd)
    qc = _read_table(qc, pd)
    names = [str(s) for s in ds["spectrum"].values]
    if preprocessing is None:
        preprocessing = _json_attr(ds, "preprocessing", [])
    pre = _per_spectrum(preprocessing if preprocessing not in ([], {}, "") else None, names)
    checklist = mrsinmrs.checklist(ds, preprocessing=pre)
    edited = bool(difference.difference_windows(ds))

    with atomic_path(path) as tmp, matplotlib.rc_context(RC):
        with PdfPages(tmp, metadata={"Title": title or f"mrsquant QC report ({len(names)} spectra)",
                                     "Creator": style.software_label(ds.attrs.get("software_version")),
                                     "CreationDate": None}) as pdf:
            if len(names) > 1:
                for fig in cohort.summary_pages(ds, qc=qc, title=title,
                                                crlb_limit_percent=crlb_limit_percent):
                    pdf.savefig(fig)
            for i in range(len(names)):
                fig = _new_page()
                draw_spectrum_page(fig, ds, i, concentrations=concentrations, qc=qc,
                                   preprocessing=pre[i], crlb_limit_percent=crlb_limit_percent)
                pdf.savefig(fig)
                if edited:
                    fig = _new_page()
                    difference.draw_difference_page(fig, ds, i)
                    pdf.savefig(fig)
                if (voxel_pictures or {}).get(names[i]):
                    pdf.savefig(_voxel_page(names[i], voxel_pictures[names[i]]))
            fig = _new_page()
            mrsinmrs.draw_page(fig, checklist)
            pdf.savefig(fig)
    if mrsinmrs_path is not False:
        md = Path(mrsinmrs_path) if mrsinmrs_path else path.with_name("mrsinmrs.md")
        mrsinmrs.write_markdown(checklist, md)
    return path


def _voxel_page(name, png):
    """A page with the voxel picture of ``name`` (qc.voxel_plot) across its width."""
    import matplotlib.image as mpimg  # lazy: heavy

    fig = _new_page()
    img = mpimg.imread(str(png))
    h, w = img.shape[:2]
    width = 0.92
    height = width * h / w * A4_PORTRAIT[0] / A4_PORTRAIT[1]
    fig.text(0.04, 0.96, f"{name}: voxel on the T1 (tissue fractions)", fontsize=11, weight="bold", va="top")
    ax = fig.add_axes([0.04, 0.93 - height, width, height])
    ax.imshow(img)
    ax.set_axis_off()
    return fig


def _read_table(table, pd):
    if table is None or isinstance(table, pd.DataFrame):
        return table
    p = Path(table)
    if not p.is_file():
        raise InputError(f"{p}: table not found")
    return pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False)


def report_from_outdir(outdir, output=None, **kwargs):
    """Regenerate ``OUTDIR/report.pdf`` (or ``output``) from saved fit results, no refit."""
    outdir = Path(outdir)
    ds, conc, qc = load_results(outdir)
    out = Path(output) if output else outdir / "report.pdf"
    kwargs.setdefault("mrsinmrs_path", out.with_name("mrsinmrs.md"))
    kwargs.setdefault("voxel_pictures", _voxel_pictures(outdir, [str(s) for s in ds["spectrum"].values]))
    return render_report(ds, out, concentrations=conc, qc=qc, **kwargs)


def _voxel_pictures(outdir: Path, names) -> dict:
    """The ``fit --t1`` pictures of a fit folder: ``voxel.png`` (one spectrum), ``NAME_voxel.png``."""
    if len(names) == 1:
        return {names[0]: outdir / "voxel.png"} if (outdir / "voxel.png").is_file() else {}
    return {n: outdir / f"{n}_voxel.png" for n in names if (outdir / f"{n}_voxel.png").is_file()}
