"""ComBat harmonisation of metabolite values across sites or scanners.

Uses neuroCombat (Fortin et al. 2017, NeuroImage 161:149; Johnson et al. 2007,
Biostatistics 8:118): per site an additive and a multiplicative effect on each
measure, shrunk towards their mean over measures (empirical Bayes), removed while
the protected covariates (visit time, treatment group) are kept in the model, so
a treatment or time effect is not removed with the site. neuroHarmonize was
considered: its release pins numpy < 2 and pandas < 3, which this project cannot
install next to its own requirements; neuroCombat (0.2.12) has no such pins.
Install with ``pip install mrsquant[clinical]``.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["combat_harmonise"]


def combat_harmonise(values, site, *, time=None, group=None, min_per_site: int = 2):
    """Harmonise ``values`` (samples x measures) across ``site``.

    Parameters
    ----------
    values : (n_samples, n_measures) ndarray
        One row per spectrum (participant x session), NaN = missing. Rows with no
        finite value are left as they are; a missing value inside a row is filled with
        its site mean for the fit only and stays missing in the output.
    site : (n_samples,) array of labels
    time : (n_samples,) float array or None
        Protected continuous covariate (visit time).
    group : (n_samples,) array of labels or None
        Protected categorical covariate (treatment arm).
    min_per_site : int
        A site with fewer usable rows is refused.

    Returns
    -------
    harmonised : ndarray like ``values``
    info : dict with ``sites`` (rows per site) and ``eb`` (empirical Bayes used)

    Raises
    ------
    InputError
        neuroCombat not installed, fewer than 2 sites, or a site with too few rows.
    """
    try:
        from neuroCombat import neuroCombat  # lazy: optional
    except ImportError:  # pragma: no cover - optional extra
        raise InputError("site harmonisation needs neuroCombat: pip install "
                         "'mrsquant[clinical]'") from None
    v = np.asarray(values, float)
    site = np.asarray(site, dtype=object)
    use = np.isfinite(v).any(axis=1) & pd.notna(site) & (site != "")
    counts = pd.Series(site[use]).value_counts()
    if len(counts) < 2:
        raise InputError(f"harmonisation needs at least 2 sites, found {len(counts)}")
    few = counts[counts < min_per_site]
    if len(few):
        raise InputError(f"site(s) {', '.join(map(str, few.index))} have fewer than "
                         f"{min_per_site} usable spectra: cannot estimate their site effect")
    x = v[use]
    keep_feat = np.isfinite(x).sum(axis=0) >= 2
    filled = x.copy()
    for s in counts.index:
        rows = site[use] == s
        mu = np.nanmean(np.where(np.isfinite(x[rows]), x[rows], np.nan), axis=0)
        block = filled[rows]
        block[~np.isfinite(block)] = np.broadcast_to(mu, block.shape)[~np.isfinite(block)]
        filled[rows] = block
    keep_feat &= np.isfinite(filled).all(axis=0)
    covars = pd.DataFrame({"site": site[use].astype(str)})
    cont, cat = [], []
    if time is not None:
        covars["time"] = np.asarray(time, float)[use]
        cont.append("time")
    if group is not None:
        g = np.asarray(group, dtype=object)[use]
        levels = sorted(pd.Series(g.astype(str)).unique())
        if len(levels) > 1:
            covars["group"] = g.astype(str)
            cat.append("group")
            if time is not None:
                # the treatment effect is a time x group interaction: protect it too, or
                # it is scaled with each site's residual variance
                for lev in levels[1:]:
                    col = f"time_x_{lev}"
                    covars[col] = covars["time"] * (covars["group"] == lev)
                    cont.append(col)
    _refuse_confounded(covars, cont, cat)
    eb = int(keep_feat.sum()) >= 2
    with contextlib.redirect_stdout(io.StringIO()):
        out = neuroCombat(dat=filled[:, keep_feat].T, covars=covars, batch_col="site",
                          categorical_cols=cat or None, continuous_cols=cont or None, eb=eb)
    res = v.copy()
    h = x.copy()
    h[:, keep_feat] = np.asarray(out["data"]).T
    h[~np.isfinite(x)] = np.nan
    res[use] = h
    return res, {"sites": counts.to_dict(), "eb": eb, "protected": cont + cat}


def _refuse_confounded(covars: pd.DataFrame, cont, cat) -> None:
    """Refuse a design where the sites cannot be told apart from the protected covariates
    (e.g. every site holds one treatment arm only): ComBat would fail on a singular matrix,
    or remove the treatment effect with the site."""
    cols = [pd.get_dummies(covars["site"], dtype=float)]
    cols += [pd.get_dummies(covars[c], drop_first=True, dtype=float) for c in cat]
    cols += [covars[c].astype(float) for c in cont]
    design = pd.concat(cols, axis=1).to_numpy(float)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise InputError("harmonisation: the sites are confounded with the protected covariates "
                         f"({', '.join(cont + cat)}; e.g. each site holds one group only): the site "
                         "effect cannot be separated from the treatment or time effect")
