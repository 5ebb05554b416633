"""The report page of an edited fit's difference spectra (MEGA DIFF; HERMES/HERCULES GABA and GSH).

An edited fit stores its spectra on one ``ppm`` axis: a MEGA fit with a DIFF basis holds the
DIFF (ON - OFF) itself; a joint HERMES/HERCULES fit (docs/editing.md) holds the sum and the
difference windows concatenated in basis order (the axis restarts at each window). The main
spectrum page draws the first window (the sum); this page draws every difference window with
its data, fit, baseline, residual and the fitted edited components (GABA, the co-edited MM3co,
GSH) drawn on the baseline, ppm decreasing to the right.
"""
from __future__ import annotations

import json

import numpy as np

from . import style
from .style import PPM_DISPLAY

#: combination names of a joint fit whose ``edit_combinations`` attribute is absent
#: (basis order of mrsquant.basis.simulate.HADAMARD_COMBINATIONS)
HADAMARD_ORDER = ("sum", "diff_gaba", "diff_gsh")
#: the edited components drawn, in this order, when present in a window
EDITED_COMPONENTS = ("GABA", "MM3co", "GSH")
#: the edited 3 ppm region (GABA+, GSH cysteine) drawn again beside each window
ZOOM_PPM = (3.5, 2.75)
#: what each difference window is, for its panel title
TITLES = {"diff": "MEGA DIFF (ON - OFF)", "diff_gaba": "GABA difference (A + B - C - D)",
          "diff_gsh": "GSH difference (A - B + C - D)"}


def _combination_names(ds, n_blocks: int) -> list[str]:
    names = ds.attrs.get("edit_combinations")
    if isinstance(names, (str, bytes)):
        try:
            names = json.loads(names)
        except ValueError:
            names = None
    if isinstance(names, (list, tuple)) and len(names) == n_blocks:
        return [str(n) for n in names]
    if n_blocks == len(HADAMARD_ORDER):
        return list(HADAMARD_ORDER)
    return [f"window {k + 1}" for k in range(n_blocks)]


def difference_windows(ds) -> list[tuple[str, slice]]:
    """``[(name, slice of the ppm axis)]`` of the difference spectra of an edited fit (empty for
    an unedited one): the whole axis for a MEGA DIFF-basis fit, each window but the sum for a
    joint fit whose ppm axis restarts."""
    ppm = np.asarray(ds["ppm"].values, float)
    cuts = [0] + [int(k) + 1 for k in (ppm[1:] > ppm[:-1]).nonzero()[0]] + [ppm.size]
    seq = str(ds.attrs.get("basis_sequence", "")).lower()
    if len(cuts) == 2:
        return [("diff", slice(0, ppm.size))] if seq.endswith("diff") else []
    names = _combination_names(ds, len(cuts) - 1)
    return [(n, slice(a, b)) for n, a, b in zip(names, cuts[:-1], cuts[1:]) if n != "sum"]


def _crlb_text(ds, i, name) -> str:
    mets = [str(m) for m in ds["metabolite"].values] if "metabolite" in ds.coords else []
    if name not in mets or "amplitude" not in ds:
        return name
    k = mets.index(name)
    amp = float(ds["amplitude"].values[i, k])
    pct = float(ds["crlb_percent"].values[i, k]) if "crlb_percent" in ds else np.nan
    return f"{name} {style.format_value(amp)}" + (f" (CRLB {pct:.0f} %)" if np.isfinite(pct) else "")


def _window_panel(ax, ds, i, name, sl, ppm_range=PPM_DISPLAY, *, zoom=False):
    ppm = np.asarray(ds["ppm"].values, float)[sl]
    m = (ppm <= max(ppm_range)) & (ppm >= min(ppm_range))
    x = ppm[m]

    def real(var):
        return np.asarray(ds[var].values[i], complex)[sl][m].real if var in ds else np.full(x.size, np.nan)
    data, fit, base = real("data"), real("fit"), real("baseline")
    base = np.where(np.isfinite(base), base, 0.0)
    ax.plot(x, data, color=style.DATA_COLOUR, lw=0.7, label="data")
    ax.plot(x, fit, color=style.FIT_COLOUR, lw=0.9, label="fit")
    ax.plot(x, base, color=style.BASELINE_COLOUR, lw=0.8, ls="--", label="baseline")
    drawn = []
    if "components" in ds:
        names = [str(b) for b in ds["basis_metabolite"].values]
        comp = np.asarray(ds["components"].values[i], complex)[:, sl][:, m].real
        scale = np.nanmax(np.abs(fit)) if np.isfinite(fit).any() else 0.0
        for met in EDITED_COMPONENTS:
            if met in names:
                c = comp[names.index(met)]
                if np.isfinite(c).any() and np.nanmax(np.abs(c)) > 0.01 * scale:
                    colour = style.metabolite_colour(met)
                    ax.fill_between(x, base, c + base, color=colour, alpha=0.35, lw=0)
                    ax.plot(x, c + base, color=colour, lw=1.0, label=f"{met} (on baseline)")
                    drawn.append(met)
    resid = data - fit
    if np.isfinite(resid).any():
        top = np.nanmax(np.maximum(data, fit))
        span = top - min(np.nanmin(data), np.nanmin(fit))
        offset = top + 0.1 * span - np.nanmin(resid)
        ax.plot(x, resid + offset, color=style.RESIDUAL_COLOUR, lw=0.6, label="residual (offset)")
        ax.axhline(offset, color=style.RESIDUAL_COLOUR, lw=0.3, ls=":")
    ax.set_xlim(max(ppm_range), min(ppm_range))      # ppm decreasing to the right
    ax.set_xlabel("Chemical shift (ppm)")
    ax.tick_params(direction="out", length=2.5)
    if zoom:
        ax.set_yticks([])
        ax.set_title(f"zoom {max(ppm_range):g}-{min(ppm_range):g} ppm", loc="left", fontsize=7, pad=12)
        return drawn
    ax.set_ylabel("Signal, real part (a.u.)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.set_title(TITLES.get(name, name), loc="left", fontweight="bold", pad=12)
    if drawn:
        ax.text(1.0, 1.015, "; ".join(_crlb_text(ds, i, d) for d in drawn), transform=ax.transAxes,
                ha="right", va="bottom", fontsize=6.5, color="#333333")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.22 * (hi - lo))    # room for the legend
    ax.legend(loc="upper left", ncol=3, frameon=False, fontsize=6.3, handlelength=1.8, borderaxespad=0.3)
    return drawn


def draw_difference_page(fig, ds, i) -> list[str]:
    """Draw the difference spectra of spectrum ``i`` of an edited fit on an A4 portrait
    ``Figure``; returns the window names drawn (empty, and nothing drawn, for an unedited fit)."""
    windows = difference_windows(ds)
    if not windows:
        return []
    name = str(ds["spectrum"].values[i])
    fig.text(0.05, 0.975, f"Difference spectra \u2013 {name}", fontsize=13, fontweight="bold", va="top")
    fig.text(0.05, 0.952, f"Edited fit ({ds.attrs.get('basis_sequence', 'edited')}): data, fit, baseline, "
             "residual and the fitted edited components of each difference spectrum", fontsize=8, va="top",
             color="#333333")
    fig.text(0.95, 0.975, style.software_label(ds.attrs.get("software_version")), fontsize=7,
             ha="right", va="top", color="#555555")
    top, bottom, gap = 0.895, 0.06, 0.075
    h = min((top - bottom - gap * (len(windows) - 1)) / len(windows), 0.5)
    for k, (wname, sl) in enumerate(windows):
        y = top - (k + 1) * h - k * gap
        _window_panel(fig.add_axes([0.09, y, 0.6, h]), ds, i, wname, sl)
        _window_panel(fig.add_axes([0.73, y, 0.22, h]), ds, i, wname, sl, ZOOM_PPM, zoom=True)
    fig.text(0.5, 0.012, f"{name} \u2013 real parts after the fitted zero/first-order phase; components drawn "
             "on the fitted baseline", fontsize=5.5, ha="center", color="#666666")
    return [w for w, _ in windows]
