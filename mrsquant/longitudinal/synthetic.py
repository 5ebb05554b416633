"""Synthetic cohorts with known truth, for tests, benchmarks and examples.

Two levels:

* :func:`simulate_changes`: arrays ``(replicate, participant)`` of paired
  measurements and score changes, drawn in one vectorised call, for coverage
  and error-rate studies over hundreds of simulated studies.
* :func:`make_cohort`: one cohort as the tables ``mrsquant fit`` writes
  (``concentrations.tsv``, ``qc.tsv``) plus a BIDS-style ``scores.tsv``, with
  the true mean change and true correlation of every ``X/tCr`` measure.

Model (both levels): for participant ``i`` and metabolite ``m``, the ratio to
tCr at baseline is ``mu_m (1 + cv_between z_im)``; its true change is
``d_im = mean_m + sd_m (rho_m u_i + sqrt(1 - rho_m^2) e_im)`` with
``u_i`` the standardised score change (``score_delta_i = score_mean + score_sd u_i``);
each measured ratio adds independent measurement noise with sd
``mu_m * crlb_m / 100``. The truth reported is that of the *measured*
change: mean ``mean_m`` and correlation
``sd_m rho_m / sqrt(sd_m^2 + 2 noise_m^2)`` with the score change (exact
for sums of components over tCr when ``tcr_crlb_percent = 0`` and scores
are not rounded).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..basis.names import COMBINED
from ..files import atomic_path

__all__ = ["simulate_changes", "simulate_visits", "make_cohort", "SyntheticCohort",
           "BASELINE_RATIOS", "CRLB_PERCENT"]

#: typical 3T short-TE amplitude ratios to tCr (Cr + PCr = 1)
BASELINE_RATIOS = {"NAA": 1.35, "NAAG": 0.15, "Cr": 0.55, "PCr": 0.45, "GPC": 0.13, "PCh": 0.07,
                   "Glu": 1.15, "Gln": 0.40, "GABA": 0.16, "GSH": 0.22, "Tau": 0.20,
                   "mI": 0.80, "sI": 0.04, "Lac": 0.06}
#: typical relative CRLBs (percent) used as measurement noise
CRLB_PERCENT = {"NAA": 3.0, "NAAG": 25.0, "Cr": 6.0, "PCr": 7.0, "GPC": 8.0, "PCh": 15.0,
                "Glu": 5.0, "Gln": 15.0, "GABA": 20.0, "GSH": 12.0, "Tau": 20.0,
                "mI": 5.0, "sI": 30.0, "Lac": 35.0}


def simulate_changes(n_replicates: int, n_participants: int, *, mean_change: float = 0.0,
                     sd_change: float = 1.0, rho: float = 0.0, baseline_mean: float = 1.0,
                     baseline_sd: float = 0.1, score_mean_change: float = -8.0,
                     score_sd_change: float = 6.0, n_measures: int | None = None, seed: int = 0):
    """Draw many simulated paired studies at once.

    Parameters
    ----------
    n_replicates, n_participants : int
    mean_change, sd_change : float
        True mean and SD of the within-participant change of the measure.
    rho : float
        True correlation between the change and the score change.
    baseline_mean, baseline_sd : float
        Distribution of the baseline value (between participants).
    score_mean_change, score_sd_change : float
    n_measures : int or None
        When given, draw that many independent measures per study (axis 1).
    seed : int

    Returns
    -------
    dict of ndarrays
        ``baseline``, ``followup``: ``(R, n)`` or ``(R, n_measures, n)``;
        ``score_delta``: ``(R, n)`` (shared by the measures of a study).
    """
    rng = np.random.default_rng(seed)
    shape = (n_replicates, n_participants) if n_measures is None else \
        (n_replicates, n_measures, n_participants)
    u = rng.standard_normal((n_replicates, n_participants))
    uu = u if n_measures is None else u[:, None, :]
    e = rng.standard_normal(shape)
    delta = mean_change + sd_change * (rho * uu + np.sqrt(1.0 - rho ** 2) * e)
    base = baseline_mean + baseline_sd * rng.standard_normal(shape)
    return {"baseline": base, "followup": base + delta,
            "score_delta": score_mean_change + score_sd_change * u}


def simulate_visits(n_replicates: int, n_participants: int, n_visits: int, *,
                    mean_slope: float = 0.0, slope_sd: float = 0.02, intercept: float = 1.5,
                    intercept_sd: float = 0.1, noise_sd: float = 0.04,
                    missing_fraction: float = 0.1, seed: int = 0):
    """Draw many simulated multi-visit studies with participant-specific slopes.

    ``value[r, i, j] = intercept + a_ri + (mean_slope + b_ri) t_j + e_rij`` with
    ``a ~ N(0, intercept_sd^2)``, ``b ~ N(0, slope_sd^2)`` (heterogeneous
    slopes), ``e ~ N(0, noise_sd^2)`` and ``t_j = 0, 1, ..., n_visits - 1``.
    Each follow-up visit is missing (NaN) with probability
    ``missing_fraction``, independently; baselines are kept.

    Returns
    -------
    dict with ``value`` ``(R, n, S)`` (NaN = missing visit) and ``time`` ``(S,)``.
    """
    rng = np.random.default_rng(seed)
    R, n, S = n_replicates, n_participants, n_visits
    t = np.arange(S, dtype=float)
    a = intercept_sd * rng.standard_normal((R, n, 1))
    b = slope_sd * rng.standard_normal((R, n, 1))
    y = intercept + a + (mean_slope + b) * t + noise_sd * rng.standard_normal((R, n, S))
    gone = rng.random((R, n, S)) < missing_fraction
    gone[:, :, 0] = False
    return {"value": np.where(gone, np.nan, y), "time": t}


@dataclass
class SyntheticCohort:
    """Tables of a simulated cohort and the truth they were drawn from."""

    concentrations: pd.DataFrame
    qc: pd.DataFrame
    scores: pd.DataFrame
    truth: pd.DataFrame

    def write(self, outdir) -> dict:
        """Write ``concentrations.tsv``, ``qc.tsv``, ``scores.tsv`` (atomically) into ``outdir``."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, df in (("concentrations", self.concentrations), ("qc", self.qc),
                         ("scores", self.scores), ("truth", self.truth)):
            path = outdir / f"{name}.tsv"
            with atomic_path(path) as tmp:
                df.to_csv(tmp, sep="\t", index=False, na_rep="n/a" if name == "scores" else "")
            paths[name] = path
        return paths


def make_cohort(n_participants: int = 16, *, sessions=("pre", "post"), effects=None,
                default_sd_fraction: float = 0.04, cv_between: float = 0.08,
                crlb_scale: float = 1.0, tcr_crlb_percent: float = 0.0,
                score_baseline=(22.0, 4.0), score_change=(-10.0, 6.0),
                integer_scores: bool = True, madrs: bool = True, phq9: bool = False,
                groups=None, water: bool = True, failed=(), missing=(), missing_scores=(),
                status=None, prior_influence=None, seed: int = 0) -> SyntheticCohort:
    """Simulate one cohort as ``mrsquant fit`` tables plus a scores table.

    Parameters
    ----------
    n_participants : int
    sessions : sequence of str
        Session labels in time order; the change grows linearly from the
        first to the last session.
    effects : dict or None
        ``{metabolite: {"mean": change in ratio-to-tCr units, "sd": SD of the
        change, "rho": correlation with the HAMD17 change}}`` for component
        metabolites. Default: ``NAA`` +0.06 (sd 0.06, rho -0.5) and ``Glu``
        +0.08 (sd 0.08, rho -0.4); others mean 0, sd ``default_sd_fraction``
        times their baseline ratio, rho 0.
    cv_between : float
        Between-participant CV of baseline ratios.
    crlb_scale : float
        Multiplies :data:`CRLB_PERCENT` (measurement noise); 0 = noise free.
    tcr_crlb_percent : float
        Noise on Cr and PCr (0 keeps the ratio truth exact).
    score_baseline, score_change : (mean, sd)
        HAMD-17 at baseline and its change to the last session.
    integer_scores : bool
        Round scores to integers >= 0 (clinical realism; the correlation truth is
        then approximate). False keeps continuous, unclipped scores.
    madrs, phq9 : bool
        Also derive MADRS (1.4 HAMD17 + noise) / PHQ-9 (1.0 HAMD17 + noise) columns.
    groups : sequence of str or None
        Assign participants alternately to these groups (``group`` column);
        the effects apply to the first group only, the others have mean 0.
    water : bool
        Fill ``conc_mm``: tCr is 8 mM x (1 + ``cv_between`` z) per participant,
        with 3 % measurement noise per spectrum and no true change; each
        metabolite's mM is its ratio to tCr times that. Otherwise empty.
    prior_influence : dict or None
        ``{(participant_index, session_label, metabolite): influence}`` written
        to a ``prior_influence`` column (0 elsewhere); None writes no column,
        as an older ``mrsquant fit`` does.
    failed, missing : iterables of (participant_index, session_label)
        Spectra whose fit failed (NaN amplitudes, status ``failed``) or that
        are absent from the tables.
    missing_scores : iterable of (participant_index, session_label, scale)
        Score cells left empty.
    status : dict or None
        ``{(participant_index, session_label): "low SNR"}`` and so on.
    seed : int

    Returns
    -------
    SyntheticCohort
        ``truth`` has one row per ``X/tCr`` measure (components and combined
        metabolites): ``measure, mean_change, sd_change, r_HAMD17`` for the
        change from the first to the last session in the first group.
    """
    rng = np.random.default_rng(seed)
    if effects is None:
        effects = {"NAA": {"mean": 0.06, "sd": 0.06, "rho": -0.5},
                   "Glu": {"mean": 0.08, "sd": 0.08, "rho": -0.4}}
    mets = list(BASELINE_RATIOS)
    n, S = n_participants, len(sessions)
    frac = np.linspace(0.0, 1.0, S) if S > 1 else np.zeros(1)
    group = None
    active = np.ones(n)
    if groups:
        group = np.array([groups[i % len(groups)] for i in range(n)], dtype=object)
        active = (group == groups[0]).astype(float)
    u = rng.standard_normal(n)
    score_delta = score_change[0] * active + score_change[1] * u
    mean_, sd_, rho_, noise_ = {}, {}, {}, {}
    ratio = {}
    for m in mets:
        mu = BASELINE_RATIOS[m]
        eff = effects.get(m, {})
        mean_[m] = float(eff.get("mean", 0.0))
        sd_[m] = float(eff.get("sd", default_sd_fraction * mu))
        rho_[m] = float(eff.get("rho", 0.0))
        crlb = tcr_crlb_percent if m in ("Cr", "PCr") else CRLB_PERCENT[m] * crlb_scale
        noise_[m] = mu * crlb / 100.0
        base = mu * (1.0 + cv_between * rng.standard_normal(n))
        if m in ("Cr", "PCr"):
            delta = np.zeros(n)
        else:
            e = rng.standard_normal(n)
            delta = mean_[m] * active + sd_[m] * (rho_[m] * u + np.sqrt(1 - rho_[m] ** 2) * e)
        true = base[:, None] + delta[:, None] * frac[None, :]
        ratio[m] = true + noise_[m] * rng.standard_normal((n, S))
    if tcr_crlb_percent == 0:
        tcr = ratio["Cr"] + ratio["PCr"]
        ratio["Cr"], ratio["PCr"] = ratio["Cr"] / tcr, ratio["PCr"] / tcr   # exact tCr = 1
    gain = 10.0 ** rng.uniform(3, 4, size=(n, S))        # arbitrary scanner/fit scale
    tcr_mm = 8.0 * (1.0 + cv_between * rng.standard_normal(n))[:, None] \
        * (1.0 + 0.03 * rng.standard_normal((n, S)))
    influence = {(int(k[0]), str(k[1]), str(k[2])): float(v)
                 for k, v in (prior_influence or {}).items()}

    conc, qc = _fit_tables(rng, sessions, mets, ratio, gain, noise_, tcr_mm, water=water, failed=failed,
                           missing=missing, status=status, influence=influence,
                           prior_influence=prior_influence)
    scores = _score_table(rng, sessions, frac, score_baseline, score_delta, madrs=madrs, phq9=phq9,
                          integer_scores=integer_scores, group=group, missing_scores=missing_scores)
    truth = _truth_table(mets, mean_, sd_, rho_, noise_, score_change, water)
    return SyntheticCohort(conc, qc, scores, truth)


def _fit_tables(rng, sessions, mets, ratio, gain, noise_, tcr_mm, *, water, failed, missing, status,
                influence, prior_influence):
    """concentrations.tsv and qc.tsv rows as ``mrsquant fit`` writes them."""
    n = gain.shape[0]
    failed = {(int(i), str(s)) for i, s in failed}
    missing = {(int(i), str(s)) for i, s in missing}
    status = {(int(k[0]), str(k[1])): v for k, v in (status or {}).items()}
    rows, qrows = [], []
    for i in range(n):
        for j, ses in enumerate(sessions):
            if (i, ses) in missing:
                continue
            spec = f"sub-{i + 1:02d}_ses-{ses}_svs"
            amp = {m: ratio[m][i, j] * gain[i, j] for m in mets}
            for cname, comps in COMBINED.items():
                amp[cname] = sum(amp[c] for c in comps)
            sd_abs = {m: noise_[m] * gain[i, j] for m in mets}
            for cname, comps in COMBINED.items():
                sd_abs[cname] = float(np.sqrt(sum(sd_abs[c] ** 2 for c in comps)))
            tcr_amp = amp["tCr"]
            bad = (i, ses) in failed
            for m in mets + list(COMBINED):
                a = np.nan if bad else amp[m]
                crlb_abs = np.nan if bad else sd_abs[m]
                rows.append({"spectrum": spec, "metabolite": m, "amplitude": a,
                             "crlb_percent": 100 * crlb_abs / a if not bad else np.nan,
                             "crlb_abs": crlb_abs, "ratio_tcr": a / tcr_amp if not bad else np.nan,
                             "conc_mm": tcr_mm[i, j] * a / tcr_amp if (water and not bad)
                             else np.nan})
                if prior_influence is not None:
                    rows[-1]["prior_influence"] = influence.get((i, ses, m), 0.0)
            fw = 0.045 + 0.01 * rng.random()
            qrows.append({"spectrum": spec, "snr": round(float(30 + 20 * rng.random()), 2),
                          "fwhm_ppm": round(fw, 4), "fwhm_hz": round(fw * 123.2, 3),
                          "fqn": round(float(1.0 + 0.3 * rng.random()), 3),
                          "status": "failed" if bad else status.get((i, ses), "ok")})
    conc = pd.DataFrame(rows)
    qc = pd.DataFrame(qrows)
    return conc, qc


def _score_table(rng, sessions, frac, score_baseline, score_delta, *, madrs, phq9, integer_scores,
                 group, missing_scores):
    """The scores table: HAMD17 (and MADRS/PHQ9), group, age, sex per participant and session."""
    n = len(score_delta)
    hamd0 = score_baseline[0] + score_baseline[1] * rng.standard_normal(n)
    srows = []
    age = rng.uniform(20, 65, n).round(0)
    sex = rng.choice(["F", "M"], n)
    for i in range(n):
        for j, ses in enumerate(sessions):
            h = hamd0[i] + score_delta[i] * frac[j]
            row = {"participant_id": f"sub-{i + 1:02d}", "session_id": f"ses-{ses}", "HAMD17": h}
            if madrs:
                row["MADRS"] = 1.4 * h + 2.0 * rng.standard_normal()
            if phq9:
                row["PHQ9"] = 0.9 * h + 1.5 * rng.standard_normal()
            for k in ("HAMD17", "MADRS", "PHQ9"):
                if k in row:
                    if integer_scores:            # clinical realism: integers >= 0
                        row[k] = max(0.0, float(round(row[k])))
            if group is not None:
                row["group"] = group[i]
            row["age"] = age[i]
            row["sex"] = sex[i]
            srows.append(row)
    scores = pd.DataFrame(srows)
    for i, ses, scale in missing_scores:
        scores.loc[(scores["participant_id"] == f"sub-{int(i) + 1:02d}")
                   & (scores["session_id"] == f"ses-{ses}"), scale] = np.nan
    return scores


def _truth_table(mets, mean_, sd_, rho_, noise_, score_change, water):
    """True mean/SD of each X/tCr change and its correlation with the HAMD17 change."""
    truth = []
    measures = {m: (m,) for m in mets if m not in ("Cr", "PCr")}
    measures.update({c: comps for c, comps in COMBINED.items() if c != "tCr"})
    for name, comps in measures.items():
        mean = sum(mean_[c] for c in comps)
        cov_u = sum(sd_[c] * rho_[c] for c in comps)          # cov with u
        var = sum(sd_[c] ** 2 for c in comps) + sum(
            sd_[a] * rho_[a] * sd_[b] * rho_[b] for a in comps for b in comps if a != b)
        var_obs = var + 2 * sum(noise_[c] ** 2 for c in comps)
        r = cov_u / np.sqrt(var_obs) if score_change[1] > 0 else np.nan
        truth.append({"measure": f"{name}/tCr", "mean_change": mean,
                      "sd_change": float(np.sqrt(var_obs)), "r_HAMD17": float(r)})
    if water:
        truth.append({"measure": "tCr", "mean_change": 0.0,
                      "sd_change": float(8.0 * 0.03 * np.sqrt(2.0)), "r_HAMD17": 0.0})
    return pd.DataFrame(truth)
