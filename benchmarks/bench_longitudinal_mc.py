"""Combined Monte Carlo of the clinical change analysis (issue 15) on simulated multi-site studies.

Usage::

    python benchmarks/bench_longitudinal_mc.py --cells 12x2 20x2 50x2 [--studies 500]
    python benchmarks/bench_longitudinal_mc.py --cells 12x3 --mixed-studies 300
    python benchmarks/bench_longitudinal_mc.py --power        # power command vs simulation
    python benchmarks/bench_longitudinal_mc.py --write        # tables -> docs/benchmarks.md

Each run adds its cells to a JSON cache (``--cache``); ``--write`` puts every cached cell
between ``<!-- clinical-mc:start -->`` and ``<!-- clinical-mc:end -->`` in docs/benchmarks.md.
Cells are run separately so that no run takes more than a few minutes on 2 shared cores.

Generator (:func:`simulate_study`, benchmark-side): ``n`` participants, 2 or 3 equally
spaced visits, each follow-up visit missing with probability 0.1, 2-4 sites (drawn per study,
participants dealt out in turn) with additive site offsets ``U(-10, 10) %`` of each measure's
mean, ten ``X/tCr`` measures with the baseline ratios and CRLBs of
:mod:`mrsquant.longitudinal.synthetic`. A value is ``mu (1 + 0.08 z) + site offset + change +
session noise + fit noise``: the session noise (SD ``SESSION_CV`` % of ``mu``) is the
between-session variability the fit cannot see, the fit noise has the spectrum's own CRLB
(``mu CRLB % x U(0.7, 1.3)``, written as ``crlb_abs``). Three measures change (mean
``EFFECTS`` % of ``mu`` from the first to the last visit, linear, participant SD of the change
half the mean); seven do not change for anyone.

Every study goes through the functions ``mrsquant longitudinal`` runs on an assembled cohort
(:func:`mrsquant.app.longitudinal.run_longitudinal`): ``change_table`` -> ``paired_tests``
(paired t, CI, BH q across measures x sessions), ``mixed_models_long`` (random slopes with
3 visits, GEE fallback), ``reliable_change`` (literature-CV path with ``--cv`` and repeat-scan
path with ``--retest``), and ``_harmonise`` (the ``--harmonise-site`` step: neuroCombat with
time, group and their interaction protected).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from _docs import write_section

from mrsquant.app.longitudinal import _harmonise
from mrsquant.errors import InputError
from mrsquant.longitudinal.analysis import change_table, mixed_models_long, paired_tests
from mrsquant.longitudinal.cohort import Cohort
from mrsquant.longitudinal.power import power, sample_size
from mrsquant.longitudinal.reliable import reliable_change, retest_table
from mrsquant.longitudinal.stats import paired_summary
from mrsquant.longitudinal.synthetic import BASELINE_RATIOS, CRLB_PERCENT

MEASURES = ["NAA", "Glu", "GABA", "Gln", "GSH", "mI", "GPC", "Tau", "NAAG", "PCh"]
#: true mean change first -> last visit, percent of the mean (the other seven: none)
EFFECTS = {"NAA": 5.0, "Glu": 8.0, "GABA": 25.0}
#: between-session CV (percent) the fit cannot see
SESSION_CV = 4.0
CV_BETWEEN = 0.08
SITE_OFFSET = 0.10
MISSING = 0.10
N_RETEST = 20
ALPHA = 0.05


def true_cv_percent() -> dict:
    """Total test-retest CV of each measure in the generator (session noise + mean CRLB^2),
    what a user would give with ``--cv``."""
    eu2 = 1.0 + 0.6 ** 2 / 12.0                       # E[U^2], U ~ U(0.7, 1.3)
    return {f"{m}/tCr": float(np.sqrt(SESSION_CV ** 2 + CRLB_PERCENT[m] ** 2 * eu2))
            for m in MEASURES}


def simulate_study(rng, n, visits, *, groups=False, site_offset=SITE_OFFSET):
    """One simulated study: values ``(n, S, K)`` (NaN = missing visit), CRLBs, truth.

    ``groups=True``: participants alternate between ``treated`` and ``control``, the change
    happens in the treated only, and the sites are unbalanced (site 1 gets two thirds treated
    participants) so that a harmonisation that removed the group would bias the effect.
    """
    K = len(MEASURES)
    mu = np.array([BASELINE_RATIOS[m] for m in MEASURES])
    n_sites = int(rng.integers(2, 5))
    site = np.arange(n) % n_sites
    rng.shuffle(site)
    group = np.where(np.arange(n) % 2 == 0, "treated", "control")
    if groups:                                         # unbalanced: site 0 mostly treated
        order = np.argsort(np.where(group == "treated", rng.random(n), 0.5 + rng.random(n)))
        site = np.empty(n, int)
        site[order] = (np.arange(n) * n_sites) // n
    treated = (group == "treated") if groups else np.ones(n, bool)
    frac = np.linspace(0.0, 1.0, visits)
    eff = np.array([EFFECTS.get(m, 0.0) for m in MEASURES]) / 100.0 * mu      # (K,)
    offsets = site_offset * mu * rng.uniform(-1, 1, (n_sites, K))
    offsets[0] = site_offset * mu                      # a known offset to remove: site 0 +10 %
    level = mu * (1.0 + CV_BETWEEN * rng.standard_normal((n, K)))
    change = np.where(eff > 0, eff + 0.5 * eff * rng.standard_normal((n, K)), 0.0) * treated[:, None]
    crlb = mu * np.array([CRLB_PERCENT[m] for m in MEASURES]) / 100.0 \
        * rng.uniform(0.7, 1.3, (n, visits, K))
    clean = level[:, None, :] + change[:, None, :] * frac[None, :, None] \
        + SESSION_CV / 100.0 * mu * rng.standard_normal((n, visits, K)) \
        + crlb * rng.standard_normal((n, visits, K))
    value = clean + offsets[site][:, None, :]
    gone = rng.random((n, visits)) < MISSING
    gone[:, 0] = False
    value[gone] = np.nan
    crlb[gone] = np.nan
    truth = eff[None, :] * frac[1:, None] * (treated.mean() if not groups else 1.0)
    return {"value": value, "crlb": crlb, "clean": np.where(gone[..., None], np.nan, clean),
            "site": site, "group": group, "truth": truth, "offsets": offsets,
            "treated": treated, "n_sites": n_sites, "eff": eff}


def as_cohort(sim) -> Cohort:
    """The study as the Cohort ``assemble_cohort`` builds (the fields the analysis reads)."""
    n, S, K = sim["value"].shape
    parts = [f"sub-{i + 1:02d}" for i in range(n)]
    sess = [f"ses-{j}" for j in range(S)]
    site = np.broadcast_to(np.array([f"site{s}" for s in sim["site"]], dtype=object)[:, None], (n, S))
    group = np.broadcast_to(sim["group"].astype(object)[:, None], (n, S))
    ds = xr.Dataset(
        {"value": (("participant", "session", "measure"), sim["value"].copy()),
         "measure_crlb_abs": (("participant", "session", "measure"), sim["crlb"].copy()),
         "time": ("session", np.arange(S, dtype=float)),
         "cov_site": (("participant", "session"), site.copy()),
         "cov_group": (("participant", "session"), group.copy())},
        coords={"participant": parts, "session": sess, "measure": [f"{m}/tCr" for m in MEASURES]})
    return Cohort(ds, pd.DataFrame(), (), tuple(sess), sess[0], [])


def long_of(cohort: Cohort, measure: str, *, group: bool = False) -> pd.DataFrame:
    """One measure's long table (what ``long_table`` gives, restricted to the measure)."""
    ds = cohort.data
    k = list(ds["measure"].values).index(measure)
    v = ds["value"].values[:, :, k]
    pi, si = np.nonzero(np.isfinite(v))
    df = pd.DataFrame({"participant_id": ds["participant"].values[pi],
                       "session_id": ds["session"].values[si], "measure": measure,
                       "time": ds["time"].values[si], "value": v[pi, si]})
    if group:
        df["group"] = ds["cov_group"].values[pi, si]
    return df


def retest_scans(rng, n_pairs=N_RETEST):
    """Repeat scans (same site, no change) of ``n_pairs`` people: the ``--retest`` table."""
    mu = np.array([BASELINE_RATIOS[m] for m in MEASURES])
    level = mu * (1.0 + CV_BETWEEN * rng.standard_normal((n_pairs, 1, len(mu))))
    crlb = mu * np.array([CRLB_PERCENT[m] for m in MEASURES]) / 100.0 \
        * rng.uniform(0.7, 1.3, (n_pairs, 2, len(mu)))
    v = level + SESSION_CV / 100.0 * mu * rng.standard_normal((n_pairs, 2, len(mu))) \
        + crlb * rng.standard_normal((n_pairs, 2, len(mu)))
    return retest_table(v, crlb, [f"{m}/tCr" for m in MEASURES])


def run_cell(n, visits, studies, mixed_studies, harm_studies, seed):
    """All criteria for one design cell; returns a dict of counts and rates."""
    rng = np.random.default_rng(seed)
    cv = true_cv_percent()
    null = [f"{m}/tCr" for m in MEASURES if m not in EFFECTS]
    t0 = time.process_time()
    acc = {k: [] for k in ("p_null", "cover", "cover_eff", "fdp", "power", "rci_lit", "rci_ret",
                           "p_mixed", "mixed_model", "off_before", "off_after", "eff_raw",
                           "eff_harm", "missing", "sites", "refused")}
    for r in range(studies):
        sim = simulate_study(rng, n, visits)
        cohort = as_cohort(sim)
        ch = change_table(cohort, cv_percent=cv)
        te = paired_tests(ch)
        k = te["metabolite"].map({f"{m}/tCr": i for i, m in enumerate(MEASURES)}).to_numpy()
        j = te["session_id"].map({f"ses-{s}": s - 1 for s in range(1, visits)}).to_numpy()
        truth = sim["truth"][j, k]
        is_null = truth == 0
        cov = (te["ci_low"] <= truth) & (truth <= te["ci_high"])
        acc["p_null"].extend(te.loc[is_null, "t_p"].to_numpy(float).tolist())
        acc["cover"].extend(cov.to_numpy(float).tolist())
        acc["cover_eff"].extend(cov[~is_null].to_numpy(float).tolist())
        rej = te["q_fdr"].to_numpy(float) < ALPHA
        acc["fdp"].append(float(np.sum(rej & is_null) / max(rej.sum(), 1)))
        acc["power"].append(float(np.mean(rej[~is_null])))
        per = ch[ch["metabolite"].isin(null)]
        for key, retest in (("rci_lit", None), ("rci_ret", retest_scans(rng))):
            rc, _ = reliable_change(per, retest=retest, cv_percent=cv)
            flags = rc.loc[rc["reliable_change"] != "", "reliable_change"]
            acc[key].append([int(flags.isin(("increase", "decrease")).sum()), int(len(flags))])
        acc["missing"].append(float(np.mean(~np.isfinite(sim["value"][:, 1:, 0]))))
        acc["sites"].append(sim["n_sites"])
        if r < mixed_studies:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = mixed_models_long(long_of(cohort, null[0]), group=None)
            row = out[out["term"] == "time"].iloc[0]
            acc["p_mixed"].append(float(row["p"]))
            acc["mixed_model"].append(str(row["model"]))
        if r < harm_studies:
            _harmonisation(rng, n, visits, acc)
    cpu = time.process_time() - t0
    return _summarise(n, visits, studies, mixed_studies, harm_studies, acc, cpu)


def _harmonisation(rng, n, visits, acc):
    """A two-arm study with unbalanced sites: offsets before/after ``_harmonise`` and the
    treatment x time effect of the changing measure NAA (mixed model) on raw and harmonised data."""
    sim = simulate_study(rng, n, visits, groups=True)
    cohort = as_cohort(sim)
    raw = cohort.data["value"].values.copy()
    try:
        _harmonise(cohort, "site")
    except InputError:                                 # sites confounded with the arm
        acc["refused"].append(1)
        return
    h = cohort.data["value"].values
    clean = sim["clean"]
    site = np.broadcast_to(sim["site"][:, None], clean.shape[:2])
    for arr, key in ((raw, "off_before"), (h, "off_after")):
        err = arr - clean                              # (n, S, K): site offset left + ComBat
        grand = np.nanmean(err.reshape(-1, err.shape[-1]), axis=0)
        per_site = np.array([np.nanmean(err[site == s], axis=0) for s in range(sim["n_sites"])])
        rel = (per_site - grand) / np.array([BASELINE_RATIOS[m] for m in MEASURES])
        acc[key].append(float(np.sqrt(np.mean(rel ** 2))))
    m = "NAA/tCr"
    eff = float(sim["eff"][0])
    term = "time:C(group)[T.treated]"
    for key, values in (("eff_raw", raw), ("eff_harm", h)):
        c2 = as_cohort({**sim, "value": values})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = mixed_models_long(long_of(c2, m, group=True), group="group")
        coef = out.loc[out["term"] == term, "coef"]
        acc[key].append(float(coef.iloc[0]) * (visits - 1) / eff if len(coef) else np.nan)


def _rate(x):
    x = np.asarray(x, float)
    p = float(np.mean(x))
    return p, float(np.sqrt(p * (1 - p) / max(len(x), 1)))


def _summarise(n, visits, studies, mixed_studies, harm_studies, acc, cpu):
    pn = np.asarray(acc["p_null"])
    out = {"n": n, "visits": visits, "studies": studies, "mixed_studies": mixed_studies,
           "harm_studies": harm_studies, "cpu_s": cpu,
           "missing": float(np.mean(acc["missing"])),
           "sites": {str(k): int(v) for k, v in zip(*np.unique(acc["sites"], return_counts=True))},
           "type1_paired": _rate(pn < ALPHA), "n_null_tests": int(pn.size),
           "coverage": _rate(acc["cover"]), "coverage_effects": _rate(acc["cover_eff"]),
           "fdr": (float(np.mean(acc["fdp"])), float(np.std(acc["fdp"], ddof=1) / np.sqrt(studies))),
           "power_bh": float(np.mean(acc["power"]))}
    for key in ("rci_lit", "rci_ret"):
        a = np.asarray(acc[key])
        p = a[:, 0].sum() / a[:, 1].sum()
        # SE across studies (flags within a study share the error-model estimate)
        per = a[:, 0] / np.maximum(a[:, 1], 1)
        out[key] = (float(p), float(np.std(per, ddof=1) / np.sqrt(len(per))), int(a[:, 1].sum()))
    if acc["p_mixed"]:
        out["type1_mixed"] = _rate(np.asarray(acc["p_mixed"]) < ALPHA)
        out["mixed_models"] = {k: acc["mixed_model"].count(k) for k in set(acc["mixed_model"])}
        pm, mm = np.asarray(acc["p_mixed"]), np.asarray(acc["mixed_model"])
        out["type1_by_model"] = {k: [int((pm[mm == k] < ALPHA).sum()), int((mm == k).sum())]
                                 for k in out["mixed_models"]}
    if acc["eff_harm"]:
        for key in ("eff_raw", "eff_harm"):
            e = np.asarray(acc[key]) - 1.0
            out[key] = (float(100 * np.nanmean(e)), float(100 * np.nanstd(e, ddof=1)
                                                         / np.sqrt(np.isfinite(e).sum())))
        out["off_before"] = float(100 * np.mean(acc["off_before"]))
        out["off_after"] = float(100 * np.mean(acc["off_after"]))
    out["refused"] = len(acc["refused"])
    return out


# --------------------------------------------------------------------------- power
POWER_DESIGNS = [  # effect %, cv %, r, visits, dropout, slope sd %
    (5.0, 8.0, 0.7, 2, 0.1, 0.0),
    (10.0, 12.0, 0.5, 2, 0.2, 0.0),
    (5.0, 8.0, 0.7, 3, 0.1, 0.0),
    (4.0, 10.0, 0.6, 4, 0.2, 2.0),
    (8.0, 15.0, 0.4, 3, 0.15, 4.0),
]


def _slope_p(rng, R, n, visits, effect, cv, r, dropout, slope_sd):
    """p of the analysis the power command models: paired t (2 visits) or the one-sample t of
    per-participant least-squares changes of the completers, compound-symmetric visits."""
    t = np.arange(visits, dtype=float)
    chol = np.linalg.cholesky((cv / 100) ** 2 * (r + (1 - r) * np.eye(visits)))
    y = 1.0 + rng.standard_normal((R, n, visits)) @ chol.T
    true = effect / 100 + slope_sd / 100 * rng.standard_normal((R, n))
    y += true[..., None] * t / (visits - 1)
    tc = t - t.mean()
    change = (visits - 1) * (y @ tc) / np.sum(tc ** 2)               # (R, n)
    keep = rng.random((R, n)) >= dropout
    p = np.empty(R)
    for k in np.unique(keep.sum(1)):                              # group studies by completers
        sel = keep.sum(1) == k
        if k < 2:
            p[sel] = 1.0
            continue
        d = np.stack([row[m] for row, m in zip(change[sel], keep[sel])])
        p[sel] = paired_summary(d)["p"]
    return p


def run_power(R, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for effect, cv, r, visits, dropout, slope_sd in POWER_DESIGNS:
        out = sample_size(effect, cv, r, visits=visits, dropout=dropout, slope_sd_percent=slope_sd)
        nc = out["n_completers"]
        sim_c = float(np.mean(_slope_p(rng, R, nc, visits, effect, cv, r, 0.0, slope_sd) < ALPHA))
        sim_e = float(np.mean(_slope_p(rng, R, out["n_enrol"], visits, effect, cv, r, dropout,
                                       slope_sd) < ALPHA))
        half = power(max(nc // 2, 2), effect, cv, r, visits=visits, slope_sd_percent=slope_sd)
        sim_h = float(np.mean(_slope_p(rng, R, max(nc // 2, 2), visits, effect, cv, r, 0.0,
                                       slope_sd) < ALPHA))
        rows.append({"effect": effect, "cv": cv, "r": r, "visits": visits, "dropout": dropout,
                     "slope_sd": slope_sd, "n_completers": nc, "n_enrol": out["n_enrol"],
                     "power": out["power"], "sim_completers": sim_c, "sim_enrol": sim_e,
                     "n_half": max(nc // 2, 2), "power_half": half, "sim_half": sim_h})
    return {"R": R, "rows": rows}


# --------------------------------------------------------------------------- output
def _pm(pair, scale=100.0, digits=1):
    return f"{scale * pair[0]:.{digits}f} +/- {scale * pair[1]:.{digits}f}"


def render(cache) -> str:
    meta = cache.get("meta", {})
    cells = sorted(cache.get("cells", {}).values(), key=lambda c: (c["visits"], c["n"]))
    lines = [
        "## Clinical change analysis: combined Monte Carlo (issue 15)",
        "",
        f"{meta.get('date', '?')}, {meta.get('machine', '?')}; commands "
        + "; ".join(f"`{c}`" for c in meta.get("commands", [])) + ". "
        "Generator and pipeline: benchmarks/bench_longitudinal_mc.py docstring (n participants, "
        "2 or 3 visits, each follow-up visit missing with p = 0.1, 2-4 sites per study with "
        "additive offsets up to +/- 10 % of the mean, ten X/tCr measures of which NAA, Glu, GABA "
        "change by 5, 8, 25 % first to last visit, session CV 4 % plus each spectrum's CRLB); "
        "every study through `change_table` -> `paired_tests`, `mixed_models_long`, "
        "`reliable_change` and `_harmonise` as `mrsquant longitudinal` runs them. "
        "+/- is the Monte-Carlo SE. Issue bands: type-I 3.5-6.5 %, coverage 93-97 %, "
        "FDR <= 5 %, RCI false positives 4-6 % (nominal 5 %), harmonised effect bias <= 10 %.",
        "",
        "| n | visits | studies (mixed / harmonisation) | sites 2/3/4 | follow-ups missing "
        "| paired t type-I | mixed model type-I (models) | CI coverage, all rows | "
        "CI coverage, changing measures | BH FDR (power) | RCI false positive: --cv | "
        "RCI false positive: --retest (20 pairs) | CPU s |",
        "|" + "---|" * 13,
    ]
    for c in cells:
        sites = "/".join(str(c["sites"].get(str(k), 0)) for k in (2, 3, 4))
        by_model = c.get("type1_by_model", {})
        models = ", ".join(f"{'RS' if 'slope' in k else 'RI' if 'intercept' in k else 'GEE'} {v}"
                           + (f": {by_model[k][0]} rejected" if k in by_model else "")
                           for k, v in sorted(c.get("mixed_models", {}).items()))
        lines.append(
            f"| {c['n']} | {c['visits']} | {c['studies']} ({c['mixed_studies']} / "
            f"{c['harm_studies']}) | {sites} | {100 * c['missing']:.1f} % | "
            f"{_pm(c['type1_paired'])} % | {_pm(c['type1_mixed']) if 'type1_mixed' in c else '-'} % "
            f"({models}) | {_pm(c['coverage'])} % | {_pm(c['coverage_effects'])} % | "
            f"{_pm(c['fdr'])} % ({100 * c['power_bh']:.0f} %) | {_pm(c['rci_lit'][:2])} % | "
            f"{_pm(c['rci_ret'][:2])} % | {c['cpu_s']:.0f} |")
    lines += [
        "",
        "Paired-t type-I over the seven unchanged measures x follow-up sessions "
        "(e.g. 3500 tests per 2-visit cell of 500 studies); coverage of the 95 % CI of the mean "
        "change over all measures x sessions; FDR = mean false-discovery proportion of BH at "
        "q < 0.05 over the 10 (2 visits) or 20 (3 visits: both follow-ups) rows; RCI over "
        "every unchanged participant x measure x follow-up (SE across studies). Mixed model: "
        "time effect of GSH/tCr (unchanged); RS = random intercept + slope, RI = random "
        "intercept, GEE = the sandwich fallback.",
        "",
        "Harmonisation (`--harmonise-site site`): two-arm studies (treated / control alternating, "
        "change in the treated only), sites unbalanced by arm, site 0 +10 % on every measure. "
        "Residual site offset = RMS over sites and measures of (site mean - grand mean) of "
        "value minus its offset-free value, % of the measure's mean; effect bias = "
        "treatment x time coefficient of NAA/tCr (mixed model) against the true 5 %.",
        "",
        "| n | visits | studies | residual site offset raw -> harmonised | effect bias raw | "
        "effect bias harmonised |",
        "|---|---|---|---|---|---|",
    ]
    for c in cells:
        if "eff_harm" in c:
            lines.append(f"| {c['n']} | {c['visits']} | {c['harm_studies']} | "
                         f"{c['off_before']:.2f} % -> {c['off_after']:.2f} % | "
                         f"{_pm(c['eff_raw'], 1.0)} % | {_pm(c['eff_harm'], 1.0)} % |")
    pw = cache.get("power")
    if pw:
        lines += [
            "",
            f"`mrsquant longitudinal power` against simulation ({pw['R']} studies per row; "
            "compound-symmetric visits, linear change, heterogeneous changes `slope_sd`, the "
            "paired t / per-participant slope t-test the command models; MC SE <= 0.8 points). "
            "Computed power at the command's n, simulated at that n, simulated with enrolment "
            "n_enrol and random dropout, and both at half the n:",
            "",
            "| effect % | CV % | r | visits | dropout | slope SD % | completers | enrol | power "
            "(command) | simulated | simulated, enrol + dropout | half n: command | half n: "
            "simulated |",
            "|" + "---|" * 13,
            *[f"| {r['effect']:g} | {r['cv']:g} | {r['r']:g} | {r['visits']} | {r['dropout']:g} | "
              f"{r['slope_sd']:g} | {r['n_completers']} | {r['n_enrol']} | {r['power']:.3f} | "
              f"{r['sim_completers']:.3f} | {r['sim_enrol']:.3f} | {r['power_half']:.3f} | "
              f"{r['sim_half']:.3f} |" for r in pw["rows"]],
            "",
            "Largest |command - simulated| power: "
            f"{100 * max(max(abs(r['power'] - r['sim_completers']), abs(r['power_half'] - r['sim_half'])) for r in pw['rows']):.1f}"
            " points (band 5).",
        ]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", nargs="*", default=[], help="NxV, e.g. 12x2 20x3")
    ap.add_argument("--studies", type=int, default=500)
    ap.add_argument("--mixed-studies", type=int, default=None, help="default: --studies")
    ap.add_argument("--harm-studies", type=int, default=200)
    ap.add_argument("--power", action="store_true")
    ap.add_argument("--power-studies", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--cache", default=os.environ.get("MRSQUANT_MC_CACHE",
                                                      "/tmp/mrsquant_clinical_mc.json"))
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    cache_path = Path(args.cache)
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {"cells": {}, "meta": {}}
    meta = cache.setdefault("meta", {})
    cmd = "python benchmarks/bench_longitudinal_mc.py " + " ".join(argv if argv is not None
                                                                     else os.sys.argv[1:])
    for spec in args.cells:
        n, v = (int(x) for x in spec.split("x"))
        t0 = time.perf_counter()
        res = run_cell(n, v, args.studies, args.mixed_studies if args.mixed_studies is not None
                       else args.studies, args.harm_studies, args.seed + 100 * n + v)
        res["wall_s"] = time.perf_counter() - t0
        cache["cells"][spec] = res
        print(json.dumps(res))
    if args.power:
        cache["power"] = run_power(args.power_studies, args.seed)
        print(json.dumps(cache["power"]))
    if args.cells or args.power:
        meta.setdefault("commands", [])
        if cmd not in meta["commands"]:
            meta["commands"].append(cmd)
        meta["date"] = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
        meta["machine"] = (f"{platform.node()} ({platform.processor() or platform.machine()}, "
                           f"{os.cpu_count()} cores shared, Python {platform.python_version()})")
        tmp = cache_path.with_name(f".{cache_path.name}.part")
        tmp.write_text(json.dumps(cache, indent=1))
        os.replace(tmp, cache_path)
    text = render(cache)
    print(text)
    if args.write:
        write_section("clinical-mc", text)
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
