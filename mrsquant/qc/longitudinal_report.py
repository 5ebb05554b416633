"""``longitudinal.pdf``: the pages of a longitudinal analysis.

Pages: summary and paired tests; spaghetti plots per measure; responders vs
non-responders (trajectories and change distributions by response status);
change vs score-change scatter with the least-squares line and its 95 %
confidence band; forest plots (mean change in % of baseline with MDC95,
correlations with bootstrap CIs); responder comparisons; mixed-model time
effects; every exclusion and flag. Undefined values (NA) are left out of a
figure, never passed to matplotlib as objects.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

try:  # shared look of all reports, when present
    from .style import RC as _RC
except ImportError:  # pragma: no cover - style module owned by the report engineer
    _RC = {"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "xtick.labelsize": 7,
           "ytick.labelsize": 7, "legend.fontsize": 7, "pdf.fonttype": 42}

A4_LANDSCAPE = (11.69, 8.27)
GROUP_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
PANELS_PER_PAGE = 8
STATUS_COLOURS = {"responder": "#d62728", "non-responder": "#1f77b4", "unknown": "#9a9a9a"}


def _unit(measure: str) -> str:
    return "amplitude ratio" if "/" in measure else "mM"


def _fmt(v, spec=".3g"):
    try:
        if v is None or v is pd.NA or not np.isfinite(float(v)):
            return ""
    except (TypeError, ValueError):
        return str(v)
    return format(float(v), spec)


def _time_axis(ds):
    """Visit times, tick labels and axis label (weeks/days when the table gave them)."""
    time = ds["time"].values.astype(float)
    unit = ds["time"].attrs.get("units", "")
    sess = [s[4:] for s in ds["session"].values]
    if unit in ("", "visits"):
        return time, sess, "session"
    return time, [f"{t:g}\n{lab}" for t, lab in zip(time, sess)], f"time ({unit})"


def _status(flags) -> np.ndarray:
    """'responder' / 'non-responder' / 'unknown' from a nullable boolean column."""
    out = np.full(len(flags), "unknown", dtype=object)
    arr = flags.astype("boolean")
    known = arr.notna().to_numpy()
    out[known & arr.fillna(False).to_numpy(bool)] = "responder"
    out[known & ~arr.fillna(False).to_numpy(bool)] = "non-responder"
    return out


def _table_page(pdf, plt, title, header, rows, *, col_widths=None, fontsize=7, footer=None):
    """Paginate a table over as many pages as needed."""
    per_page = 32
    chunks = [rows[i:i + per_page] for i in range(0, len(rows), per_page)] or [[]]
    for k, chunk in enumerate(chunks):
        fig = plt.figure(figsize=A4_LANDSCAPE)
        fig.suptitle(title + (f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else ""),
                     fontsize=12, x=0.04, ha="left")
        ax = fig.add_axes([0.03, 0.08, 0.94, 0.84])
        ax.axis("off")
        if chunk:
            tab = ax.table(cellText=chunk, colLabels=header, loc="upper left", cellLoc="left",
                           colWidths=col_widths)
            tab.auto_set_font_size(False)
            tab.set_fontsize(fontsize)
            tab.scale(1, 1.25)
            for (r, _), cell in tab.get_celld().items():
                cell.set_linewidth(0.3)
                if r == 0:
                    cell.set_facecolor("#e8e8e8")
                    cell.set_text_props(weight="bold")
        else:
            ax.text(0, 0.95, "none", fontsize=10, va="top")
        if footer:
            fig.text(0.03, 0.03, footer, fontsize=7, va="bottom")
        pdf.savefig(fig)
        plt.close(fig)


def _summary_page(pdf, plt, result):
    cohort = result.cohort
    ds = cohort.data
    fig = plt.figure(figsize=A4_LANDSCAPE)
    fig.suptitle("mrsquant longitudinal analysis", fontsize=14, x=0.04, ha="left")
    n_spec = int((ds["spectrum"].values != "").sum())
    n_inc = int(ds["included"].values.sum())
    s = result.settings
    lines = [
        f"Participants: {ds.sizes['participant']}    Sessions (time order): "
        f"{', '.join(cohort.sessions)}    Baseline: {cohort.baseline}",
        f"Spectra: {n_spec} found, {n_inc} included    Scales: {', '.join(cohort.scales) or 'none'}",
        f"QC rules: {'; '.join(s['qc_rules'])}",
        f"Change correlated with score change: {s['change']}    Multiple comparisons: "
        f"{'Benjamini-Hochberg FDR' if s['correction'] == 'fdr_bh' else 'Bonferroni'} "
        f"across measures (and scales)    Bootstrap: BCa, {s['n_boot']} resamples, seed {s['seed']}",
        "Response: score reduced by >= "
        f"{100 * s['response_fraction']:.0f} % of baseline;  remission: HAMD17 <= 7, MADRS <= 10, "
        "PHQ9 < 5 unless overridden.   MDC95 = 1.96 sqrt(2) CV (test-retest CV, docs/longitudinal.md)",
    ]
    ex = result.exclusions
    if len(ex):
        out = ex[ex["action"] == "excluded"]
        reason = out["reason"].astype(str)
        spec = out[out["measure"] == "*"]
        prior = int(reason.str.startswith("prior-dominated").sum())
        qc_txt = spec["reason"].astype(str).str.split(":").str[0].value_counts()
        lines.append(f"Exclusions: {len(spec)} spectra/participants left out"
                     + (f" ({'; '.join(f'{k} {v}' for k, v in qc_txt.head(4).items())})"
                        if len(spec) else "")
                     + f"; {prior} prior-dominated values; {len(out) - len(spec) - prior} other "
                     f"values; {int((ex['action'] == 'kept').sum())} kept with a flag (last pages)")
    rel = getattr(result, "reliable", None)
    if rel is not None and len(rel):
        hit = rel[rel["reliable_change"].isin(("increase", "decrease"))]
        lines.append("Reliable change (|RCI| > critical value, error model in error_model.tsv): "
                     + (", ".join(f"{m} {len(g)}/{int((rel['metabolite'] == m).sum())}"
                                  for m, g in hit.groupby("metabolite", sort=False)) or "none"))
    for note in result.notes:
        lines.append("Note: " + note)
    y = 0.9
    for line in lines:
        for part in textwrap.wrap(line, 170):
            fig.text(0.04, y, part, fontsize=8)
            y -= 0.025
    t = result.tests
    header = ["measure", "session", "n", "mean change", "95 % CI", "change %", "MDC95 %",
              "n > MDC", "Cohen dz", "t-test p", "Wilcoxon p", "q", "prior-dom."]
    rows = [[r.metabolite, r.session_id, str(r.n), _fmt(r.mean_delta, ".4g"),
             f"[{_fmt(r.ci_low, '.4g')}, {_fmt(r.ci_high, '.4g')}]", _fmt(r.mean_delta_percent, ".1f"),
             _fmt(r.mdc95_percent, ".1f"), str(r.n_exceeding_mdc95), _fmt(r.dz, ".2f"),
             _fmt(r.t_p, ".3g"), _fmt(r.wilcoxon_p, ".3g"), _fmt(r.q_fdr, ".3g"),
             str(getattr(r, "n_prior_dominated", 0))]
            for r in t.itertuples()]
    ax = fig.add_axes([0.04, 0.05, 0.92, max(0.1, y - 0.08)])
    ax.axis("off")
    ax.set_title("Paired change from baseline (follow-up - baseline; ratio units)", loc="left",
                 fontsize=10)
    if rows:
        tab = ax.table(cellText=rows[:30], colLabels=header, loc="upper left", cellLoc="left",
                       colWidths=[0.09, 0.07, 0.04, 0.09, 0.17, 0.07, 0.07, 0.06, 0.07, 0.07,
                                  0.07, 0.06, 0.06])
        tab.auto_set_font_size(False)
        tab.set_fontsize(7)
        tab.scale(1, 1.2)
        for (r, _), cell in tab.get_celld().items():
            cell.set_linewidth(0.3)
            if r == 0:
                cell.set_facecolor("#e8e8e8")
    pdf.savefig(fig)
    plt.close(fig)


def _grid(n):
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    return nrow, ncol


def _participant_status(result):
    """Response status per participant (first scale, last session), or None without scores."""
    ch = result.changes
    scored = ch[ch["score"].astype(str) != ""]
    if scored.empty or not result.cohort.scales:
        return None
    ds = result.cohort.data
    last = ds["session"].values[-1]
    flags = scored[(scored["score"] == result.cohort.scales[0]) & (scored["session_id"] == last)] \
        .drop_duplicates("participant_id").set_index("participant_id")["responder"]
    return _status(flags.reindex(list(ds["participant"].values)))


def _spaghetti_pages(pdf, plt, result):
    ds = result.cohort.data
    measures = list(ds["measure"].values)
    time, ticklabels, xlabel = _time_axis(ds)
    gname = "cov_group" if "cov_group" in ds else ("cov_treatment" if "cov_treatment" in ds else None)
    if gname:
        groups = np.array([next((v for v in row if v), "") for row in ds[gname].values])
    else:
        groups = np.array([""] * ds.sizes["participant"])
    levels = [g for g in dict.fromkeys(groups)]
    status = _participant_status(result)
    for start in range(0, len(measures), PANELS_PER_PAGE):
        chunk = measures[start:start + PANELS_PER_PAGE]
        nrow, ncol = _grid(len(chunk))
        fig, axes = plt.subplots(nrow, ncol, figsize=A4_LANDSCAPE, squeeze=False)
        fig.suptitle("Individual trajectories (thin lines" + (", coloured by response" if status
                     is not None else "") + ") and group mean +/- 95 % CI (thick)",
                     fontsize=12, x=0.04, ha="left")
        for ax, meas in zip(axes.flat, chunk):
            v = ds["value"].sel(measure=meas).values
            for gi, lev in enumerate(levels):
                col = GROUP_COLOURS[gi % len(GROUP_COLOURS)]
                sel = groups == lev
                for i in np.nonzero(sel)[0]:
                    row = v[i]
                    ok = np.isfinite(row)
                    lc = STATUS_COLOURS[status[i]] if status is not None else col
                    if ok.sum() >= 2:
                        ax.plot(time[ok], row[ok], "-o", color=lc, alpha=0.4, lw=0.7, ms=2.5)
                    elif ok.sum() == 1:
                        ax.plot(time[ok], row[ok], "x", color=lc, alpha=0.6, ms=4)
                if status is not None:
                    col = "black" if len(levels) == 1 else col
                means, los, his = [], [], []
                for j in range(len(time)):
                    x = v[sel, j]
                    x = x[np.isfinite(x)]
                    m = x.mean() if x.size else np.nan
                    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else np.nan
                    means.append(m)
                    los.append(m - half)
                    his.append(m + half)
                ax.errorbar(time, means, yerr=[np.subtract(means, los), np.subtract(his, means)],
                            color=col, lw=2.2, capsize=3, label=lev or "all", zorder=5)
            ax.set_xticks(time)
            ax.set_xticklabels(ticklabels)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"{meas} ({_unit(meas)})")
            ax.set_title(meas)
            if levels != [""]:
                ax.legend(loc="best", frameon=False)
        legend = ("thin lines: red = responder, blue = non-responder, grey = unknown "
                  f"({result.cohort.scales[0]} at the last session); " if status is not None else "")
        _finish_grid_page(pdf, plt, fig, axes, len(chunk), legend + "x = participant with a single "
                          "usable session (kept in the mixed model, no change score)", top=0.89,
                          hspace=0.4)


def _finish_grid_page(pdf, plt, fig, axes, n_used, footer, *, top, hspace):
    """Blank the unused panels of a grid page, add its footer, save and close it."""
    for ax in list(axes.flat)[n_used:]:
        ax.axis("off")
    fig.text(0.04, 0.01, footer, fontsize=7)
    fig.subplots_adjust(left=0.07, right=0.98, top=top, bottom=0.1, hspace=hspace, wspace=0.38)
    pdf.savefig(fig)
    plt.close(fig)


def _scatter_pages(pdf, plt, result):
    from scipy import stats  # lazy: heavy

    ch = result.changes
    assoc = result.associations
    if assoc.empty:
        return
    change = result.settings["change"]
    unit_of = {"delta": None, "delta_percent": "%", "log_ratio": "log ratio"}
    keys = list(assoc[["metabolite", "score", "session_id"]].itertuples(index=False, name=None))
    for start in range(0, len(keys), PANELS_PER_PAGE):
        chunk = keys[start:start + PANELS_PER_PAGE]
        nrow, ncol = _grid(len(chunk))
        fig, axes = plt.subplots(nrow, ncol, figsize=A4_LANDSCAPE, squeeze=False)
        fig.suptitle("Metabolite change vs symptom-score change: least-squares line with 95 % "
                     "confidence band; r with BCa bootstrap 95 % CI", fontsize=11, x=0.04, ha="left")
        for ax, (meas, scale, ses) in zip(axes.flat, chunk):
            g = ch[(ch["metabolite"] == meas) & (ch["score"] == scale) & (ch["session_id"] == ses)]
            x = g[change].to_numpy(float)
            y = g["score_delta"].to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(y)
            x, y = x[ok], y[ok]
            status = _status(g["responder"])[ok]
            col = np.array([STATUS_COLOURS[v] for v in status], dtype=object)
            ax.scatter(x, y, c=col, s=14, zorder=3)
            if x.size >= 3 and np.ptp(x) > 0:
                b1, b0 = np.polyfit(x, y, 1)
                xs = np.linspace(x.min(), x.max(), 50)
                resid = y - (b0 + b1 * x)
                s2 = resid @ resid / (x.size - 2)
                se = np.sqrt(s2 * (1 / x.size + (xs - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2)))
                tc = stats.t.ppf(0.975, x.size - 2)
                ax.plot(xs, b0 + b1 * xs, color="black", lw=1)
                ax.fill_between(xs, b0 + b1 * xs - tc * se, b0 + b1 * xs + tc * se,
                                color="grey", alpha=0.25, lw=0)
            a = assoc[(assoc["metabolite"] == meas) & (assoc["score"] == scale)
                      & (assoc["session_id"] == ses)].iloc[0]
            if np.isfinite(a.r_pearson):
                stat = (f"r = {_fmt(a.r_pearson, '.2f')} [{_fmt(a.ci_low, '.2f')}, "
                        f"{_fmt(a.ci_high, '.2f')}], p = {_fmt(a.p, '.2g')}, q = {_fmt(a.q_fdr, '.2g')}")
            else:
                stat = "r not computed (fewer than 4 complete pairs)" if a.n < 4 else \
                    "r not computed (no variation)"
            ax.set_title(f"{meas} vs {scale} ({ses[4:]}), n = {a.n}\n{stat}", fontsize=7.5)
            u = unit_of[change] or _unit(meas)
            ax.set_xlabel(f"change in {meas} ({u})")
            ax.set_ylabel(f"change in {scale} (points)")
            ax.axhline(0, color="grey", lw=0.4)
            ax.axvline(0, color="grey", lw=0.4)
        _finish_grid_page(pdf, plt, fig, axes, len(chunk), "red = responder (>= "
                          f"{100 * result.settings['response_fraction']:.0f} % score reduction), "
                          "blue = non-responder, grey = unknown (score missing, or baseline 0)",
                          top=0.86, hspace=0.5)


def _mean_ci(v, n_times):
    """Mean and 95 % CI (normal) of each column of ``v`` (participants x times), NaNs left out."""
    m, lo, hi = [], [], []
    for j in range(n_times):
        x = v[:, j]
        x = x[np.isfinite(x)]
        mu = x.mean() if x.size else np.nan
        half = 1.96 * x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else 0.0
        m.append(mu)
        lo.append(mu - half)
        hi.append(mu + half)
    return map(np.asarray, (m, lo, hi))


def _change_boxes(bx, dist, labels, colours):
    """Box plots of the change by response status with the participants as dots."""
    if dist:
        bp = bx.boxplot(dist, widths=0.5, showfliers=False, patch_artist=True)
        for patch, col in zip(bp["boxes"], colours):
            patch.set_facecolor(col)
            patch.set_alpha(0.3)
        rng = np.random.default_rng(0)
        for i, (d, col) in enumerate(zip(dist, colours), start=1):
            bx.scatter(i + 0.12 * rng.uniform(-1, 1, d.size), d, s=9, color=col, zorder=3)
        bx.set_xticks(range(1, len(dist) + 1))
        bx.set_xticklabels(labels)
    else:
        bx.text(0.5, 0.5, "no change values", ha="center", va="center",
                transform=bx.transAxes, color="grey")


def _responder_pages(pdf, plt, result):
    """Trajectories (mean +/- 95 % CI) and change distributions by response status,
    for the first scale and the last follow-up session."""
    ch = result.changes
    scored = ch[ch["score"].astype(str) != ""]
    if scored.empty:
        return
    ds = result.cohort.data
    scale = result.cohort.scales[0]
    last = ds["session"].values[-1]
    flags = scored[(scored["score"] == scale) & (scored["session_id"] == last)] \
        .drop_duplicates("participant_id").set_index("participant_id")["responder"]
    parts = list(ds["participant"].values)
    status = pd.Series(_status(flags.reindex(parts)), index=parts)
    counts = status.value_counts()
    time, ticklabels, xlabel = _time_axis(ds)
    measures = list(ds["measure"].values)
    per_page = 4
    for start in range(0, len(measures), per_page):
        chunk = measures[start:start + per_page]
        fig, axes = plt.subplots(2, per_page, figsize=A4_LANDSCAPE, squeeze=False)
        fig.suptitle(f"Responders vs non-responders ({scale} at {last[4:]}: >= "
                     f"{100 * result.settings['response_fraction']:.0f} % reduction); "
                     + ", ".join(f"{k} {int(counts.get(k, 0))}" for k in STATUS_COLOURS),
                     fontsize=11, x=0.04, ha="left")
        for k, meas in enumerate(chunk):
            ax, bx = axes[0, k], axes[1, k]
            v = ds["value"].sel(measure=meas).values
            dist, labels, colours = [], [], []
            g = ch[(ch["metabolite"] == meas) & (ch["session_id"] == last)] \
                .drop_duplicates("participant_id").set_index("participant_id")["delta"]
            for lev, col in STATUS_COLOURS.items():
                sel = (status == lev).to_numpy()
                if not sel.any():
                    continue
                m, lo, hi = _mean_ci(v[sel], len(time))
                ok = np.isfinite(m)
                if ok.any():
                    ax.plot(time[ok], m[ok], "-o", color=col, lw=1.8, ms=3,
                            label=f"{lev} ({int(sel.sum())})")
                    ax.fill_between(time[ok], lo[ok], hi[ok], color=col, alpha=0.15, lw=0)
                d = g.reindex(status.index[sel]).to_numpy(float)
                d = d[np.isfinite(d)]
                if d.size:
                    dist.append(d)
                    labels.append(f"{lev}\n(n={d.size})")
                    colours.append(col)
            ax.set_xticks(time)
            ax.set_xticklabels(ticklabels)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"{meas} ({_unit(meas)})")
            ax.set_title(meas)
            if k == 0:
                ax.legend(loc="best", frameon=False)
            _change_boxes(bx, dist, labels, colours)
            bx.axhline(0, color="grey", lw=0.5)
            bx.set_ylabel(f"change in {meas} to {last[4:]}")
        for k in range(len(chunk), per_page):
            axes[0, k].axis("off")
            axes[1, k].axis("off")
        fig.text(0.04, 0.01, "top: mean +/- 95 % CI by response status; bottom: change from "
                 "baseline (box = quartiles, dots = participants); unknown = score missing or "
                 "baseline 0 (response undefined)", fontsize=7)
        fig.subplots_adjust(left=0.07, right=0.98, top=0.89, bottom=0.1, hspace=0.45, wspace=0.42)
        pdf.savefig(fig)
        plt.close(fig)


def _forest_page(pdf, plt, result):
    t = result.tests
    a = result.associations
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=A4_LANDSCAPE,
                                   gridspec_kw={"width_ratios": [1, 1.2]})
    fig.suptitle("Forest plots", fontsize=12, x=0.04, ha="left")
    if len(t):
        lab = [f"{r.metabolite} ({r.session_id[4:]}, n={r.n})" for r in t.itertuples()]
        base = t["mean_baseline"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = 100 * t["mean_delta"].to_numpy(float) / base
            lo = 100 * t["ci_low"].to_numpy(float) / base
            hi = 100 * t["ci_high"].to_numpy(float) / base
        yy = np.arange(len(t))[::-1]
        mdc = t["mdc95_percent"].to_numpy(float)
        for k, y in enumerate(yy):
            if np.isfinite(mdc[k]):
                ax1.plot([-mdc[k], mdc[k]], [y, y], color="#f2c14e", lw=6, alpha=0.5,
                         solid_capstyle="butt", zorder=1)
        sig = t["q_fdr"].to_numpy(float) < 0.05
        ax1.errorbar(m, yy, xerr=[m - lo, hi - m], fmt="o", color="black", capsize=3, zorder=3)
        ax1.scatter(m[sig], yy[sig], color="#d62728", zorder=4, s=30, label="q < 0.05")
        ax1.axvline(0, color="grey", lw=0.6)
        qv = t["q_fdr"].to_numpy(float)
        for k, y in enumerate(yy):
            if np.isfinite(qv[k]):
                ax1.annotate(f"q={qv[k]:.2g}", (1.0, y), xycoords=("axes fraction", "data"),
                             xytext=(3, 0), textcoords="offset points", va="center", fontsize=6,
                             color="#d62728" if qv[k] < 0.05 else "black", annotation_clip=False)
        ax1.set_yticks(yy)
        ax1.set_yticklabels(lab)
        ax1.set_xlabel("mean change (% of baseline mean), 95 % CI")
        ax1.set_title("Paired change from baseline (q = BH FDR)\nyellow band = +/- MDC95 of one "
                      "participant")
        if sig.any():
            ax1.legend(loc="lower right", frameon=False)
    if len(a):
        lab = [f"{r.metabolite} vs {r.score} ({r.session_id[4:]}, n={r.n})" for r in a.itertuples()]
        r = a["r_pearson"].to_numpy(float)
        lo = a["ci_low"].to_numpy(float)
        hi = a["ci_high"].to_numpy(float)
        yy = np.arange(len(a))[::-1]
        ok = np.isfinite(r)
        ax2.errorbar(r[ok], yy[ok], xerr=[(r - lo)[ok], (hi - r)[ok]], fmt="o", color="black",
                     capsize=3)
        for y in yy[~ok]:
            ax2.text(0, y, "not computed (too few pairs)", ha="center", va="center", fontsize=6,
                     color="grey")
        sig = (a["q_fdr"].to_numpy(float) < 0.05) & ok
        ax2.scatter(r[sig], yy[sig], color="#d62728", zorder=4, s=30, label="q < 0.05")
        ax2.axvline(0, color="grey", lw=0.6)
        ax2.set_xlim(-1, 1)
        qa = a["q_fdr"].to_numpy(float)
        for k, y in enumerate(yy):
            if np.isfinite(qa[k]):
                ax2.annotate(f"q={qa[k]:.2g}", (1.0, y), xycoords=("axes fraction", "data"),
                             xytext=(3, 0), textcoords="offset points", va="center", fontsize=6,
                             color="#d62728" if qa[k] < 0.05 else "black", annotation_clip=False)
        ax2.set_yticks(yy)
        ax2.set_yticklabels(lab, fontsize=6 if len(a) > 24 else 7)
        ax2.set_xlabel("Pearson r (change vs score change), BCa bootstrap 95 % CI")
        ax2.set_title("Association with symptom change (q = BH FDR)")
        if sig.any():
            ax2.legend(loc="lower right", frameon=False)
    else:
        ax2.axis("off")
        ax2.text(0.1, 0.5, "no score changes: no associations", fontsize=10)
    fig.subplots_adjust(left=0.14, right=0.95, top=0.9, bottom=0.08, wspace=0.85)
    pdf.savefig(fig)
    plt.close(fig)


def _placement_pages(pdf, plt, result):
    """Voxel placement across visits: centre shift and Dice per follow-up visit against the
    thresholds, tissue-fraction change per tissue, then the table (placement.tsv)."""
    tab = result.placement
    max_shift = result.settings.get("max_shift_mm", 5.0)
    min_dice = result.settings.get("min_dice", 0.7)
    labels = [f"{r.participant_id}\n{r.session_id}" for r in tab.itertuples()]
    x = np.arange(len(tab))
    moved = tab["moved"].astype(bool).to_numpy()
    colours = np.where(moved, "#d62728", "#1f77b4")
    fig, axes = plt.subplots(1, 3, figsize=A4_LANDSCAPE)
    fig.suptitle("Voxel placement across visits (each follow-up visit against the baseline)",
                 fontsize=12, x=0.04, ha="left")
    ax = axes[0]
    ax.bar(x, tab["centre_distance_mm"].astype(float), color=colours)
    ax.axhline(max_shift, color="k", ls="--", lw=0.8)
    ax.set_ylabel("centre distance (mm)")
    ax.set_title(f"centre shift (flag > {max_shift:g} mm)", fontsize=9)
    ax = axes[1]
    dice = tab["dice"].astype(float).to_numpy()
    ax.bar(x, np.nan_to_num(dice), color=colours)
    ax.axhline(min_dice, color="k", ls="--", lw=0.8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("Dice of the voxel masks")
    ax.set_title(f"overlap (flag < {min_dice:g}; empty: not on one grid)", fontsize=9)
    ax = axes[2]
    for k, (t, c) in enumerate((("gm", "#7f7f7f"), ("wm", "#e0c060"), ("csf", "#4fa3d9"))):
        ax.bar(x + (k - 1) * 0.27, tab[f"delta_f_{t}"].astype(float), width=0.27, color=c, label=t.upper())
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("fraction change (visit - baseline)")
    ax.set_title("tissue fraction change", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    for ax in axes:
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=6, rotation=90 if len(tab) > 8 else 0)
    fig.text(0.03, 0.03, "red = placement moved (centre shift or Dice beyond the threshold; kept, flagged in "
             "the exclusions table). Dice needs both visits' voxel masks on one grid (registered T1s); "
             "otherwise the centres are compared in scanner coordinates, which include head repositioning.",
             fontsize=7, va="bottom", wrap=True)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.86, bottom=0.2, wspace=0.3)
    pdf.savefig(fig)
    plt.close(fig)
    rows = [[r.participant_id, r.session_id, r.baseline_session, r.space, _fmt(r.centre_distance_mm, ".2f"),
             _fmt(r.dice, ".3f"), _fmt(r.delta_f_gm, "+.3f"), _fmt(r.delta_f_wm, "+.3f"),
             _fmt(r.delta_f_csf, "+.3f"), "MOVED" if r.moved else "", textwrap.shorten(str(r.note or ""), 70)]
            for r in tab.itertuples()]
    _table_page(pdf, plt, "Voxel placement across visits (placement.tsv)",
                ["participant", "session", "baseline", "space", "centre mm", "Dice", "dGM", "dWM", "dCSF",
                 "flag", "note"], rows,
                col_widths=[0.08, 0.07, 0.07, 0.08, 0.06, 0.05, 0.05, 0.05, 0.05, 0.05, 0.39])


def write_longitudinal_report(result, path) -> None:
    """Write the multi-page PDF of a :class:`~mrsquant.longitudinal.LongitudinalResult`."""
    import matplotlib  # lazy: heavy

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # lazy: heavy
    from matplotlib.backends.backend_pdf import PdfPages  # lazy: heavy

    with matplotlib.rc_context(_RC), PdfPages(path) as pdf:
        _summary_page(pdf, plt, result)
        _spaghetti_pages(pdf, plt, result)
        _responder_pages(pdf, plt, result)
        _scatter_pages(pdf, plt, result)
        _forest_page(pdf, plt, result)
        if len(getattr(result, "placement", ())):
            _placement_pages(pdf, plt, result)
        rs = result.responders
        rows = [[r.metabolite, r.score, str(r.session_id)[4:], f"{r.n_responders}/{r.n_nonresponders}",
                 _fmt(r.diff, ".4g"), f"[{_fmt(r.ci_low, '.4g')}, {_fmt(r.ci_high, '.4g')}]",
                 _fmt(r.hedges_g, ".2f"), str(r.test), _fmt(r.p, ".3g"), _fmt(r.q_fdr, ".3g"),
                 str(r.n_prior_dominated), textwrap.shorten(str(r.note or ""), 60)]
                for r in rs.itertuples()]
        _table_page(pdf, plt, "Responders vs non-responders: change from baseline",
                    ["measure", "scale", "session", "n resp/non", "diff", "95 % CI", "Hedges g",
                     "test", "p", "q", "prior-dom.", "note"], rows,
                    col_widths=[0.08, 0.06, 0.05, 0.06, 0.07, 0.13, 0.05, 0.14, 0.05, 0.05,
                                0.05, 0.21],
                    footer=f"Welch t with >= {result.settings.get('min_group_n', 10)} per group, "
                    "otherwise a permutation test of the mean difference (exact when the "
                    "splits are few; no CI); q across measures and scales")
        mx = result.mixed
        rows = [[r.metabolite, r.term, _fmt(r.coef, ".4g"), _fmt(r.se, ".3g"),
                 f"[{_fmt(r.ci_low, '.4g')}, {_fmt(r.ci_high, '.4g')}]",
                 _fmt(r.df, ".0f"), _fmt(r.p, ".3g"),
                 _fmt(r.q_fdr, ".3g"), str(r.n_obs), str(r.n_participants),
                 "yes" if r.converged else "no", str(r.n_prior_dominated),
                 textwrap.shorten(f"{r.model or ''}; {r.note or ''}".strip("; "), 60)]
                for r in mx.itertuples() if r.term != "Intercept"]
        formula = mx["formula"].iloc[0] if len(mx) else ""
        unit = result.cohort.data["time"].attrs.get("units", "") or "table units"
        _table_page(pdf, plt, "Linear models over visits (REML MixedLM; random slopes of time "
                    "with >= 3 visits; model column)",
                    ["measure", "term", "coef", "SE", "95 % CI", "df", "p", "q", "obs", "particip.",
                     "converged", "prior-dom.", "model; note"], rows,
                    col_widths=[0.07, 0.12, 0.06, 0.05, 0.13, 0.03, 0.05, 0.05, 0.03, 0.05, 0.05,
                                0.05, 0.26],
                    footer=f"formula: {formula}; time in {unit} (0 = baseline); p and CI from t on "
                    "between-within df (participants-based for random or sandwich slopes); "
                    "q across measures for each term")
        ex = result.exclusions
        rows = [[r.participant_id, r.session_id, r.spectrum, r.measure, r.action,
                 textwrap.shorten(str(r.reason), 110)] for r in ex.itertuples()]
        _table_page(pdf, plt, "Exclusions and flags (every spectrum or value left out, and why)",
                    ["participant", "session", "spectrum", "measure", "action", "reason"], rows,
                    col_widths=[0.07, 0.07, 0.17, 0.07, 0.06, 0.56],
                    footer="QC rules: " + "; ".join(result.settings["qc_rules"]))
