"""Cohort summary pages of the QC report (more than one spectrum).

Page 1: overlay of all spectra (mean +/- SD band), SNR and FWHM distributions and the
CRLB distribution per metabolite, with outliers named (Tukey fences, 1.5 IQR).
Next pages: per-metabolite summary and the table of excluded or flagged spectra.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np

from ..basis.names import COMBINED
from . import style
from .style import A4_PORTRAIT, PPM_DISPLAY, crlb_flag, metabolite_colour, status_kind
from .style import display_mask as _display_mask

#: rows of a table page
ROWS_PER_PAGE = 52


def tukey_outliers(values, *, k: float = 1.5):
    """Boolean mask of values outside ``[Q1 - k IQR, Q3 + k IQR]`` (NaN never an outlier).

    Examples
    --------
    >>> tukey_outliers([1, 2, 3, 2, 1, 50]).tolist()
    [False, False, False, False, False, True]
    """
    x = np.asarray(values, float)
    ok = np.isfinite(x)
    out = np.zeros(x.shape, bool)
    if ok.sum() < 4:
        return out
    q1, q3 = np.percentile(x[ok], [25, 75])
    iqr = q3 - q1
    out[ok] = (x[ok] < q1 - k * iqr) | (x[ok] > q3 + k * iqr)
    return out


def _spread_labels(y, min_gap):
    """Positions near ``y`` (sorted order kept) at least ``min_gap`` apart."""
    order = np.argsort(y)
    pos = np.asarray(y, float)[order].copy()
    for k in range(1, pos.size):
        pos[k] = max(pos[k], pos[k - 1] + min_gap)
    out = np.empty_like(pos)
    out[order] = pos
    return out


def _strip(ax, values, names, *, title, ylabel, max_named=8):
    x = np.asarray(values, float)
    ok = np.isfinite(x)
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_ylabel(ylabel)
    ax.set_xticks([])
    ax.set_xlim(-0.6, 1.6)
    if not ok.any():
        ax.text(0.5, 0.5, "no values", transform=ax.transAxes, ha="center")
        return []
    rng = np.random.default_rng(0)
    jitter = rng.uniform(-0.18, 0.18, x.size)
    out = tukey_outliers(x)
    ax.boxplot(x[ok], positions=[0], widths=0.5, showfliers=False,
               medianprops=dict(color="black"), boxprops=dict(lw=0.7),
               whiskerprops=dict(lw=0.7), capprops=dict(lw=0.7))
    ax.set_xticks([])
    size = 12 if x.size <= 30 else 6
    ax.scatter(jitter[ok & ~out], x[ok & ~out], s=size, color="#4c72b0", alpha=0.8, lw=0, zorder=3)
    ax.scatter(jitter[out], x[out], s=16, color=style.FLAG_COLOUR, marker="D", lw=0, zorder=3)
    idx = np.flatnonzero(out)
    idx = idx[np.argsort(-np.abs(x[idx] - np.nanmedian(x)))][:max_named]
    lo, hi = np.nanmin(x), np.nanmax(x)
    span = (hi - lo) or 1.0
    ax.set_ylim(lo - 0.08 * span, hi + 0.08 * span)
    if idx.size:
        ys = _spread_labels(x[idx], 0.075 * span)
        for k, yy in zip(idx, ys):
            ax.annotate(str(names[k]), (jitter[k], x[k]), (0.45, yy), fontsize=6,
                        color=style.FLAG_COLOUR, va="center",
                        arrowprops=dict(arrowstyle="-", color="#bbbbbb", lw=0.5))
        extra = int(out.sum()) - idx.size
        if extra > 0:
            ax.text(0.98, 0.02, f"+{extra} more outliers", transform=ax.transAxes, ha="right",
                    fontsize=6, color=style.FLAG_COLOUR)
    ax.tick_params(direction="out", length=2.5)
    return [str(names[k]) for k in np.flatnonzero(out)]


def _metabolites_for_crlb(ds):
    names = [str(m) for m in ds["metabolite"].values]
    return [m for m in names if not style.is_nuisance(m)]


def _overlay(ax, ds):
    ppm = np.asarray(ds["ppm"].values, float)
    m = _display_mask(ppm)
    data = np.asarray(ds["data"].values, complex)[:, m].real
    good = np.isfinite(data).all(axis=1)
    status = [str(s) for s in ds["status"].values]
    ok = good & np.array([status_kind(s) != "failed" for s in status])
    ax.set_title(f"All spectra (real part after the fitted phase; n = {int(ok.sum())} fitted)",
                 loc="left", fontweight="bold")
    ax.set_xlim(*PPM_DISPLAY)
    ax.set_xlabel("Chemical shift (ppm)")
    ax.set_ylabel("Signal, real part (a.u.)")
    if not ok.any():
        ax.text(0.5, 0.5, "no fitted spectra", transform=ax.transAxes, ha="center")
        return
    d = data[ok]
    x = ppm[m]
    if d.shape[0] <= 200:
        from matplotlib.collections import LineCollection  # lazy: heavy

        segs = np.stack([np.broadcast_to(x, d.shape), d], axis=-1)
        ax.add_collection(LineCollection(segs, colors="#999999", linewidths=0.3, alpha=0.5,
                                         label="individual spectra"))
    mean, sd = d.mean(axis=0), d.std(axis=0)
    ax.fill_between(x, mean - sd, mean + sd, color="#4c72b0", alpha=0.35, lw=0, label="mean \u00b1 SD")
    ax.plot(x, mean, color="black", lw=0.8, label="mean")
    lo, hi = np.nanmin(mean - sd), np.nanmax(np.maximum(mean + sd, d.max(axis=0)))
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.15 * (hi - lo))
    ax.legend(loc="upper left", frameon=False, ncol=3)
    ax.tick_params(direction="out", length=2.5)


def _crlb_panel(ax, ds, names, limit_percent):
    mets = _metabolites_for_crlb(ds)
    allnames = [str(m) for m in ds["metabolite"].values]
    ax.set_title("CRLB per metabolite (box: quartiles; red: outliers, listed below)", loc="left",
                 fontweight="bold")
    if "crlb_percent" not in ds or not mets:
        ax.text(0.5, 0.5, "no CRLB values", transform=ax.transAxes, ha="center")
        return {}
    crlb = np.asarray(ds["crlb_percent"].values, float)
    cols = [allnames.index(m) for m in mets]
    data = [crlb[:, j] for j in cols]
    finite = [v[np.isfinite(v)] for v in data]
    pos = np.arange(len(mets))
    ax.boxplot([f if f.size else [np.nan] for f in finite], positions=pos, widths=0.6,
               showfliers=False, medianprops=dict(color="black"), boxprops=dict(lw=0.6),
               whiskerprops=dict(lw=0.6), capprops=dict(lw=0.6))
    named = {}
    cap = 100.0
    n_out = sum(int(tukey_outliers(v).sum()) for v in data)
    for k, (j, v) in enumerate(zip(cols, data)):
        out = tukey_outliers(v)
        colour = metabolite_colour(mets[k])
        vv = np.clip(v, 0, cap)
        ax.scatter(np.full(int((~out & np.isfinite(v)).sum()), pos[k]), vv[~out & np.isfinite(v)],
                   s=4, color=colour, alpha=0.6, lw=0)
        if out.any():
            ax.scatter(np.full(int(out.sum()), pos[k]), vv[out], s=12, color=style.FLAG_COLOUR,
                       marker="D", lw=0)
            idx = np.flatnonzero(out)
            named[mets[k]] = [str(names[i]) for i in idx]
            if n_out <= 10:  # few: name them on the plot too (all are listed below)
                for i in idx:
                    if v[i] < cap:
                        ax.text(pos[k] + 0.15, vv[i], str(names[i]), fontsize=5,
                                color=style.FLAG_COLOUR, va="center")
    ax.axhline(limit_percent, color=style.FLAG_COLOUR, lw=0.6, ls="--")
    ax.text(len(mets) - 0.5, limit_percent, f" {limit_percent:g} % limit (main metabolites)",
            color=style.FLAG_COLOUR, fontsize=6, va="bottom", ha="right")
    ax.set_xticks(pos)
    ax.set_xticklabels(mets, rotation=60, ha="right", fontsize=6.5)
    for lab, m in zip(ax.get_xticklabels(), mets):
        if m in style.MAIN_METABOLITES or m in COMBINED:
            lab.set_fontweight("bold")
    ax.set_xlim(-0.7, len(mets) - 0.3)
    fin = np.concatenate([f for f in finite if f.size]) if any(f.size for f in finite) else np.array([1])
    ax.set_ylim(0, min(cap, max(limit_percent * 1.3, np.nanmax(np.clip(fin, 0, cap)) * 1.1)))
    ax.set_ylabel(f"CRLB (%), capped at {cap:g}")
    ax.tick_params(direction="out", length=2.5)
    return named


def _flagged_metabolites(ds, i, limit_percent):
    names = [str(m) for m in ds["metabolite"].values]
    out = []
    for j, m in enumerate(names):
        amp = float(ds["amplitude"].values[i, j])
        cabs = float(ds["crlb_abs"].values[i, j]) if "crlb_abs" in ds else float("nan")
        cpct = float(ds["crlb_percent"].values[i, j]) if "crlb_percent" in ds else float("nan")
        if crlb_flag(m, amp, cabs, cpct, limit_percent=limit_percent):
            out.append(m)
    return out


def _fmt(x, fmt="{:.3g}"):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    return fmt.format(x) if math.isfinite(x) else "n/a"


def summary_pages(ds, *, qc=None, title=None, crlb_limit_percent=style.CRLB_LIMIT_PERCENT):
    """Figures of the cohort summary, in page order (a generator)."""
    from matplotlib.figure import Figure  # lazy: heavy

    names = [str(s) for s in ds["spectrum"].values]
    n = len(names)
    status = [str(s) for s in ds["status"].values]
    kinds = [status_kind(s) for s in status]
    n_fail, n_warn = kinds.count("failed"), kinds.count("warning")

    fig = Figure(figsize=A4_PORTRAIT)
    fig.text(0.05, 0.975, title or "mrsquant QC report \u2013 cohort summary", fontsize=13,
             fontweight="bold", va="top")
    fig.text(0.05, 0.952, f"{n} spectra: {kinds.count('ok')} ok, {n_warn} flagged, {n_fail} failed."
             f"  Basis: {style.basis_label(ds.attrs.get('basis_source', 'n/a'))}.", fontsize=8, va="top")
    fig.text(0.05, 0.937, "Per-spectrum pages follow the summary tables; the MRSinMRS checklist is the "
             f"last page.  {style.software_label(ds.attrs.get('software_version'))}", fontsize=7, va="top",
             color="#444444")
    _overlay(fig.add_axes([0.09, 0.70, 0.85, 0.20]), ds)
    snr_out = _strip(fig.add_axes([0.09, 0.43, 0.22, 0.21]), ds["snr"].values if "snr" in ds
                     else np.full(n, np.nan), names, title="SNR", ylabel="SNR (NAA peak / noise SD)")
    snrl_out = _strip(fig.add_axes([0.41, 0.43, 0.22, 0.21]), ds["snr_lcmodel"].values
                      if "snr_lcmodel" in ds else np.full(n, np.nan), names,
                      title="SNR (LCModel)", ylabel="SNR (peak / 2 RMS residual)")
    fwhm_out = _strip(fig.add_axes([0.73, 0.43, 0.22, 0.21]), ds["fwhm_hz"].values
                      if "fwhm_hz" in ds else np.full(n, np.nan), names,
                      title="FWHM", ylabel="FWHM (Hz)")
    crlb_named = _crlb_panel(fig.add_axes([0.09, 0.17, 0.85, 0.2]), ds, names, crlb_limit_percent)
    lines = []
    if snr_out:
        lines.append("SNR outliers: " + ", ".join(snr_out))
    if snrl_out:
        lines.append("SNR (LCModel) outliers: " + ", ".join(snrl_out))
    if fwhm_out:
        lines.append("FWHM outliers: " + ", ".join(fwhm_out))
    if crlb_named:
        lines.append("CRLB outliers: " + "; ".join(f"{m}: {', '.join(v)}" for m, v in crlb_named.items()))
    wrapped = [w for ln in lines for w in textwrap.wrap(ln, 160, subsequent_indent="    ")]
    if len(wrapped) > 9:
        wrapped = wrapped[:8] + ["... (outliers of every metabolite: see the per-metabolite table)"]
    text = "\n".join(wrapped) or "No outliers."
    fig.text(0.05, 0.098, "Outliers (Tukey fences: outside quartiles \u00b1 1.5 IQR)", fontsize=7,
             fontweight="bold", va="top")
    fig.text(0.05, 0.084, text, fontsize=5.8, va="top", color=style.FLAG_COLOUR if lines else "black",
             linespacing=1.25)
    yield fig

    # tables: per-metabolite summary, then exclusions
    rows = _metabolite_summary(ds, crlb_limit_percent)
    excl = []
    for i, (nm, st, kd) in enumerate(zip(names, status, kinds)):
        flagged = [] if kd == "failed" else [m for m in _flagged_metabolites(ds, i, crlb_limit_percent)
                                             if m in style.MAIN_METABOLITES]
        if kd != "ok" or flagged:
            excl.append([nm, "failed" if kd == "failed" else ("flagged" if kd == "warning" else "ok"),
                         st, _fmt(ds["snr"].values[i]) if "snr" in ds else "n/a",
                         _fmt(ds["fwhm_hz"].values[i]) if "fwhm_hz" in ds else "n/a",
                         ", ".join(flagged) or "\u2013"])
    met_cols = [("Metabolite", 0.05, "left"), ("n", 0.20, "right"), ("ratio/tCr mean", 0.33, "right"),
                ("SD", 0.42, "right"), ("CV %", 0.50, "right"), ("mM mean", 0.60, "right"),
                ("SD", 0.68, "right"), ("median CRLB %", 0.82, "right"), ("n over CRLB limit", 0.95, "right")]
    ex_cols = [("Spectrum", 0.05, "left"), ("Class", 0.22, "left"), ("Status", 0.31, "left"),
               ("SNR", 0.62, "right"), ("FWHM Hz", 0.70, "right"), ("Main metabolites over CRLB limit", 0.72, "left")]
    chunks = [("Per-metabolite summary (fitted spectra)", met_cols, rows, 1.0)]
    if excl:
        chunks.append((f"Excluded or flagged spectra ({len(excl)} of {n}: status not ok, or a main "
                       f"metabolite over its CRLB limit)", ex_cols, excl, 1.0))
    else:
        chunks.append((f"Excluded or flagged spectra (none of {n})", ex_cols,
                       [["\u2013", "", "all spectra fitted with status ok", "", "", ""]], 1.0))
    yield from _table_pages(chunks)


def _metabolite_summary(ds, limit_percent):
    names = [str(m) for m in ds["metabolite"].values]
    status = [status_kind(str(s)) for s in ds["status"].values]
    keep = np.array([s != "failed" for s in status])
    rows = []
    for j, m in enumerate(names):
        r = np.asarray(ds["ratio_tcr"].values[keep, j], float) if "ratio_tcr" in ds else np.array([])
        c = np.asarray(ds["conc_mm"].values[keep, j], float) if "conc_mm" in ds else np.array([])
        p = np.asarray(ds["crlb_percent"].values[keep, j], float) if "crlb_percent" in ds else np.array([])
        rf, cf, pf = r[np.isfinite(r)], c[np.isfinite(c)], p[np.isfinite(p)]
        over = sum(_flag_ij(ds, i, j, m, limit_percent) for i in np.flatnonzero(keep))
        mean_r = rf.mean() if rf.size else np.nan
        sd_r = rf.std(ddof=1) if rf.size > 1 else np.nan
        rows.append([m, str(int(max(rf.size, pf.size))), _fmt(mean_r), _fmt(sd_r),
                     _fmt(100 * sd_r / mean_r if mean_r else np.nan, "{:.1f}"),
                     _fmt(cf.mean() if cf.size else np.nan),
                     _fmt(cf.std(ddof=1) if cf.size > 1 else np.nan),
                     _fmt(np.median(pf) if pf.size else np.nan, "{:.1f}"),
                     "\u2013" if style.is_nuisance(m) else str(over)])
    return rows


def _flag_ij(ds, i, j, m, limit_percent):
    amp = float(ds["amplitude"].values[i, j])
    cabs = float(ds["crlb_abs"].values[i, j]) if "crlb_abs" in ds else float("nan")
    cpct = float(ds["crlb_percent"].values[i, j]) if "crlb_percent" in ds else float("nan")
    return crlb_flag(m, amp, cabs, cpct, limit_percent=limit_percent)


def _table_pages(chunks):
    """Lay tables out on as many A4 pages as needed; yields figures."""
    from matplotlib.figure import Figure  # lazy: heavy

    line_h = 0.0155
    fig, y = None, None
    for title, cols, rows, _ in chunks:
        k = 0
        first = True
        while k < len(rows) or first:
            if fig is None or y < 0.08 + 4 * line_h:
                if fig is not None:
                    yield fig
                fig = Figure(figsize=A4_PORTRAIT)
                fig.text(0.05, 0.975, "Cohort summary tables", fontsize=13, fontweight="bold", va="top")
                y = 0.935
            fig.text(0.05, y, title + ("" if first else " (continued)"), fontsize=10,
                     fontweight="bold", va="top")
            y -= 0.022
            for name, x, ha in cols:
                fig.text(x, y, name, fontsize=7, fontweight="bold", va="top", ha=ha)
            y -= line_h
            fig.add_artist(_line(0.05, 0.95, y + 0.3 * line_h))
            while k < len(rows) and y > 0.05:
                row = rows[k]
                for (name, x, ha), cell in zip(cols, row):
                    text = str(cell)
                    width = 48 if name == "Status" else 40
                    if len(text) > width:
                        text = text[: width - 3] + "..."
                    colour = "black"
                    if name == "Class":
                        colour = style.STATUS_COLOURS.get({"flagged": "warning"}.get(text, text), "black")
                    fig.text(x, y, text, fontsize=6.5, va="top", ha=ha, color=colour,
                             fontweight="bold" if name in ("Metabolite", "Spectrum") else "normal")
                y -= line_h
                k += 1
            first = False
            y -= 0.02
    if fig is not None:
        yield fig


def _line(x0, x1, y):
    from matplotlib.lines import Line2D  # lazy: heavy

    ln = Line2D([x0, x1], [y, y], color="black", lw=0.5)
    return ln
