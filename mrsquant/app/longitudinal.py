"""``run_longitudinal``: the whole longitudinal analysis, as the CLI runs it."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..files import atomic_path
from ..longitudinal.analysis import (
    DEFAULT_MIN_GROUP_N,
    associations,
    change_table,
    mixed_models,
    paired_tests,
    prior_dominated_counts,
    responder_tests,
)
from ..longitudinal.cohort import DEFAULT_MAX_PRIOR_INFLUENCE, Cohort, QCRules, assemble_cohort, parse_stem
from ..longitudinal.harmonise import combat_harmonise
from ..longitudinal.placement import DEFAULT_MAX_SHIFT_MM, DEFAULT_MIN_DICE, placement_table, spectra_grid
from ..longitudinal.reliable import reliable_change, retest_table
from ..qc.longitudinal_report import write_longitudinal_report
from ..quant.voxel import voxel_geometry

__all__ = ["LongitudinalResult", "run_longitudinal", "OUTPUT_FILES"]

#: file name of each table in OUTDIR
OUTPUT_FILES = {"changes": "changes.tsv", "tests": "tests.tsv", "associations": "associations.tsv",
                "responders": "responders.tsv", "mixed": "mixed.tsv",
                "exclusions": "exclusions.tsv", "reliable": "reliable_change.tsv",
                "error_model": "error_model.tsv", "placement": "placement.tsv"}


@dataclass
class LongitudinalResult:
    """Tables of one longitudinal analysis (each also written to OUTDIR)."""

    cohort: Cohort
    changes: pd.DataFrame
    tests: pd.DataFrame
    associations: pd.DataFrame
    responders: pd.DataFrame
    mixed: pd.DataFrame
    settings: dict
    reliable: pd.DataFrame = field(default_factory=pd.DataFrame)
    error_model: pd.DataFrame = field(default_factory=pd.DataFrame)
    placement: pd.DataFrame = field(default_factory=pd.DataFrame)
    paths: dict = field(default_factory=dict)

    @property
    def exclusions(self) -> pd.DataFrame:
        return self.cohort.exclusions

    @property
    def notes(self) -> list:
        return self.cohort.notes

    def summary(self) -> list[str]:
        """A few lines for the terminal."""
        ds = self.cohort.data
        n_spec = int((ds["spectrum"].values != "").sum())
        n_inc = int(ds["included"].values.sum())
        lines = [f"cohort: {ds.sizes['participant']} participants, sessions "
                 f"{', '.join(self.cohort.sessions)} (baseline {self.cohort.baseline}), "
                 f"{n_inc}/{n_spec} spectra included",
                 f"measures: {', '.join(self.cohort.measures)}",
                 f"scales: {', '.join(self.cohort.scales) or 'none'}"]
        ex = self.exclusions
        if len(ex):
            lines.append(f"exclusions/flags: {int((ex['action'] == 'excluded').sum())} excluded, "
                         f"{int((ex['action'] == 'kept').sum())} kept with a flag "
                         "(see exclusions.tsv)")
        if len(self.reliable):
            rc = self.reliable[self.reliable["reliable_change"].isin(("increase", "decrease"))]
            if len(rc):
                lines.append("reliable changes (|RCI| above its critical value): " + ", ".join(
                    f"{m} {len(g)}" for m, g in rc.groupby("metabolite", sort=False)))
        if len(self.placement):
            moved = self.placement[self.placement["moved"].astype(bool)]
            lines.append(f"voxel placement: {len(moved)} of {len(self.placement)} follow-up visits moved "
                         f"(see placement.tsv)" + (": " + ", ".join(
                             f"{r.participant_id} {r.session_id}" for r in moved.head(5).itertuples())
                             if len(moved) else ""))
        sig = self.tests[self.tests["q_fdr"] < 0.05]
        for r in sig.itertuples():
            lines.append(f"  {r.metabolite} {r.session_id}: change {r.mean_delta:+.4g} "
                         f"[{r.ci_low:.4g}, {r.ci_high:.4g}], q = {r.q_fdr:.3g}")
        sig = self.associations[self.associations["q_fdr"] < 0.05]
        for r in sig.itertuples():
            lines.append(f"  {r.metabolite} vs {r.score}: r = {r.r_pearson:+.2f} "
                         f"[{r.ci_low:.2f}, {r.ci_high:.2f}], q = {r.q_fdr:.3g}")
        return lines


def _write_atomic(path: Path, writer) -> None:
    with atomic_path(path) as tmp:
        writer(tmp)


def write_tables(result: LongitudinalResult, outdir, *, report: bool = True) -> dict:
    """Write the TSV tables, ``cohort.nc`` and (``report=True``) ``longitudinal.pdf``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {}
    tables = {"changes": result.changes, "tests": result.tests,
              "associations": result.associations, "responders": result.responders,
              "mixed": result.mixed, "exclusions": result.exclusions,
              "reliable": result.reliable, "error_model": result.error_model}
    if len(result.placement):
        tables["placement"] = result.placement
    for key, df in tables.items():
        path = outdir / OUTPUT_FILES[key]
        _write_atomic(path, lambda tmp, df=df: df.to_csv(tmp, sep="\t", index=False, na_rep="",
                                                          float_format="%.10g"))
        paths[key] = path
    ds = result.cohort.data.copy()
    ds.attrs["notes"] = " | ".join(result.notes)
    path = outdir / "cohort.nc"
    _write_atomic(path, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf"))
    paths["cohort"] = path
    if report:

        path = outdir / "longitudinal.pdf"
        _write_atomic(path, lambda tmp: write_longitudinal_report(result, tmp))
        paths["report"] = path
    return paths


def _harmonise(cohort: Cohort, column: str) -> None:
    """Replace ``cohort.data["value"]`` by its ComBat-harmonised values (``value_raw`` keeps
    the originals), with time and group/treatment protected; a note says what was done."""

    ds = cohort.data
    name = f"cov_{column}"
    if name not in ds:
        raise InputError(f"--harmonise-site: column {column!r} not in the scores table")
    site = pd.DataFrame(ds[name].values).astype(str).replace({"": None, "nan": None})
    site = site.T.ffill().bfill().T.to_numpy(dtype=object)    # a participant's other visits
    P, S, K = ds["value"].shape
    time = np.broadcast_to(ds["time"].values[None, :], (P, S))
    group = None
    for g in ("cov_group", "cov_treatment"):
        if g in ds:
            gv = pd.DataFrame(ds[g].values).astype(str).replace({"": None})
            group = gv.T.ffill().bfill().T.fillna("").to_numpy(dtype=object).ravel()
            break
    raw = ds["value"].values
    site_flat = np.where(pd.isna(site.ravel()), "", site.ravel())
    h, info = combat_harmonise(raw.reshape(P * S, K), site_flat, time=time.ravel(), group=group)
    ds["value_raw"] = (ds["value"].dims, raw.copy())
    ds["value"] = (ds["value"].dims, h.reshape(P, S, K))
    cohort.notes.append(
        f"ComBat harmonisation across {column} ({', '.join(f'{k}: {v}' for k, v in info['sites'].items())} "
        f"spectra; neuroCombat, {'empirical Bayes' if info['eb'] else 'no pooling'}; protected: "
        f"{', '.join(info['protected']) or 'none'}); value_raw in cohort.nc keeps the originals")


def _read_voxels(results) -> dict:
    """``{spectrum: {centre_mm, mask, f_gm, f_wm, f_csf}}`` from the fit folders' fractions.tsv
    and voxel masks (``fit --t1``); spectra without them get their voxel centre from fit.nc's
    affines (scanner coordinates). Empty for DataFrame results."""

    import nibabel as nib  # lazy: heavy

    if isinstance(results, tuple) or isinstance(results, pd.DataFrame):
        return {}
    out: dict = {}
    for p in ([results] if isinstance(results, (str, Path)) else results):
        folder = Path(p) if Path(p).is_dir() else Path(p).parent
        frac = folder / "fractions.tsv"
        if frac.is_file():
            tab = pd.read_csv(frac, sep="\t")
            for r in tab.to_dict("records"):
                name = parse_stem(str(r["spectrum"]))
                mfile = folder / ("voxel_mask.nii.gz" if len(tab) == 1 else f"{name}_voxel_mask.nii.gz")
                mask = None
                if mfile.is_file():
                    img = nib.load(str(mfile))
                    mask = (np.asarray(img.dataobj, dtype=np.float32), img.affine)
                out[name] = {"centre_mm": [float(r[f"centre_{a}_mm"]) for a in "xyz"], "mask": mask,
                             **{f"f_{t}": float(r[f"f_{t}"]) for t in ("gm", "wm", "csf")}}
        nc = folder / "fit.nc"
        if nc.is_file():
            import xarray as xr  # lazy: heavy

            with xr.open_dataset(nc, engine="h5netcdf") as ds:
                names = [str(s) for s in ds["spectrum"].values]
                affines = json.loads(ds.attrs.get("affines", "[]") or "[]")
            for name, aff in zip(names, affines):
                if name in out or aff is None:
                    continue
                try:
                    out[name] = {"centre_mm": voxel_geometry(aff).centre_mm, "mask": None}
                except InputError:      # no voxel geometry (e.g. a text file)
                    continue
    return out


def _placement(cohort: Cohort, results, *, max_shift_mm: float, min_dice: float) -> pd.DataFrame:
    """Voxel placement of every follow-up visit against the baseline (longitudinal.placement);
    moved voxels are flagged (kept) in the exclusions table, a scanner-space comparison warned of."""

    voxels = _read_voxels(results)
    if not voxels:
        return pd.DataFrame()
    tab = placement_table(spectra_grid(cohort.data), voxels, baseline=cohort.baseline,
                          max_shift_mm=max_shift_mm, min_dice=min_dice)
    scanner = tab[tab["space"] == "scanner"]
    if len(scanner):
        msg = (f"voxel placement of {len(scanner)} visit(s) compared in scanner coordinates (voxel masks "
               "missing or on different T1 grids: register the T1s for Dice); the centre distance "
               "includes head repositioning")
        cohort.notes.append(msg)
        print(f"mrsquant longitudinal: warning: {msg}", file=sys.stderr)
    flags = [dict(participant_id=r.participant_id, session_id=r.session_id, spectrum=r.spectrum, measure="*",
                  action="kept", reason=f"voxel placement moved: {r.note}")
             for r in tab[tab["moved"].astype(bool)].itertuples()]
    if flags:
        cohort.exclusions = pd.concat([cohort.exclusions, pd.DataFrame(flags)], ignore_index=True)
    return tab


def run_longitudinal(results, scores=None, *, outdir=None, sessions=None,
                     baseline: str | None = None, measures=None, scales=None,
                     match: str | None = None, rules: QCRules | None = None,
                     change: str = "delta", response_fraction: float = 0.5, remission=None,
                     cv_percent=None, correction: str = "fdr_bh", n_boot: int = 2000,
                     seed: int = 0, group: str | None = "auto", covariates=(),
                     report: bool = True, allow_unmatched: bool = False,
                     max_prior_influence: float | None = DEFAULT_MAX_PRIOR_INFLUENCE,
                     min_group_n: int = DEFAULT_MIN_GROUP_N,
                     random_slopes: str | bool = "auto", retest=None,
                     harmonise_site: str | None = None, max_shift_mm: float = DEFAULT_MAX_SHIFT_MM,
                     min_dice: float = DEFAULT_MIN_DICE) -> LongitudinalResult:
    """Assemble a cohort, compute change scores and statistics, optionally write them.

    Parameters
    ----------
    results : path, list of paths, or ``(concentrations, qc)`` DataFrames
        ``mrsquant fit`` output folders or ``concentrations.tsv`` files.
    scores : path or DataFrame or None
        BIDS-style ``scores.tsv`` (``participant_id, session_id, HAMD17, ...``).
    outdir : path or None
        Where to write ``changes.tsv``, ``tests.tsv``, ``associations.tsv``,
        ``responders.tsv``, ``mixed.tsv``, ``exclusions.tsv``, ``cohort.nc``
        and ``longitudinal.pdf``; None writes nothing.
    sessions : path or DataFrame or None
        ``spectrum, participant_id, session_id`` table for non-BIDS names.
    baseline : str or None
        Baseline session (default: first in time order).
    measures, scales, match, rules
        See :func:`~mrsquant.longitudinal.cohort.assemble_cohort`.
    change : {"delta", "delta_percent", "log_ratio"}
        Change measure correlated with score changes.
    response_fraction : float
        Response = score reduced by at least this fraction (default 0.5).
    remission : dict or None
        ``{scale: (op, threshold)}`` overriding :data:`DEFAULT_REMISSION`.
    cv_percent : dict or None
        Test-retest CVs (percent) by measure or metabolite, overriding
        :data:`DEFAULT_CV_PERCENT` for MDC95.
    correction : {"fdr_bh", "bonferroni"}
    n_boot, seed : int
        Bootstrap resamples and seed for the correlation CIs.
    group : "auto", str or None
        Group column for the mixed model's time x group interaction.
    covariates : sequence of str
        Score-table columns added to the mixed model.
    report : bool
        Also write ``longitudinal.pdf`` when ``outdir`` is given.
    allow_unmatched : bool
        Go on when score rows and spectra do not pair up (default: refuse).
    max_prior_influence : float or None
        Leave out values whose prior influence exceeds this (default 0.5);
        the count per measure is the ``n_prior_dominated`` column.
    min_group_n : int
        Below this many per group, responder comparisons use a permutation test.
    random_slopes : "auto" or bool
        Random slopes of time in the mixed model ("auto": with >= 3 visit times).
    retest : path(s), ``(concentrations, qc)`` DataFrames or None
        Fit results of test-retest scans (two sessions per participant, e.g.
        ``ses-test``/``ses-retest``): the between-session SD of each measure for the
        reliable-change index (:mod:`~mrsquant.longitudinal.reliable`); without it the
        literature CVs (or ``cv_percent``) are used.

    harmonise_site : str or None
        Scores-table column naming the site/scanner of each visit: ComBat-harmonise every
        measure across its levels before any statistic (:func:`_harmonise`), keeping
        visit time and the treatment group as protected covariates.
    max_shift_mm, min_dice : float
        Voxel placement: a follow-up visit whose voxel centre moved more than ``max_shift_mm``
        from the baseline's, or whose mask overlaps it with Dice below ``min_dice``, is flagged
        (``placement.tsv``, :mod:`~mrsquant.longitudinal.placement`; needs ``fit --t1`` outputs
        for Dice and tissue changes, else the centres from fit.nc in scanner coordinates).

    Returns
    -------
    LongitudinalResult
    """
    if correction not in ("fdr_bh", "bonferroni"):
        raise InputError(f"unknown correction {correction!r}; use fdr_bh or bonferroni")
    cohort = assemble_cohort(results, scores, sessions=sessions, baseline=baseline,
                             measures=measures, rules=rules or QCRules(), match=match,
                             scales=scales, allow_unmatched=allow_unmatched,
                             max_prior_influence=max_prior_influence)
    if harmonise_site:
        _harmonise(cohort, harmonise_site)
    changes = change_table(cohort, response_fraction=response_fraction, remission=remission,
                           cv_percent=cv_percent)
    tests = paired_tests(changes, correction=correction)
    assoc = associations(changes, change=change, correction=correction, n_boot=n_boot, seed=seed)
    resp = responder_tests(changes, correction=correction, min_group_n=min_group_n, seed=seed)
    mixed = mixed_models(cohort, group=group, covariates=covariates, correction=correction,
                         random_slopes=random_slopes)
    retest_tab = None
    if retest is not None:
        rt = assemble_cohort(retest, None, sessions=None, measures=measures,
                             rules=rules or QCRules(), max_prior_influence=max_prior_influence)
        if len(rt.sessions) != 2:
            raise InputError(f"test-retest results must have two sessions per participant, "
                             f"found {len(rt.sessions)} ({', '.join(rt.sessions)})")
        retest_tab = retest_table(rt.data["value"].values, rt.data["measure_crlb_abs"].values,
                                  list(rt.data["measure"].values))
    reliable, error_model = reliable_change(changes, retest=retest_tab, cv_percent=cv_percent)
    counts = prior_dominated_counts(cohort)
    for df in (tests, assoc, resp, mixed):
        df["n_prior_dominated"] = df["metabolite"].map(counts).fillna(0).astype(int)
    if sum(counts.values()):
        cohort.notes.append(
            f"prior-dominated values (prior influence > {max_prior_influence:g}) left out: "
            + ", ".join(f"{m} {k}" for m, k in counts.items() if k))
    zero = changes.loc[changes["note"].astype(str).str.contains("baseline 0"),
                       ["participant_id", "score"]].drop_duplicates()
    for scale, g in zero.groupby("score"):
        cohort.notes.append(f"{scale} baseline 0 for {', '.join(g['participant_id'])}: "
                            "percent change and response undefined (NA)")
    settings = {"baseline": cohort.baseline, "change": change, "correction": correction,
                "response_fraction": response_fraction, "n_boot": n_boot, "seed": seed,
                "qc_rules": (rules or QCRules()).describe(), "remission": remission,
                "cv_percent": cv_percent, "max_prior_influence": max_prior_influence,
                "min_group_n": min_group_n, "allow_unmatched": allow_unmatched,
                "time_unit": cohort.data["time"].attrs.get("units", "")}
    settings["retest"] = "repeat scans" if retest is not None else "literature CVs"
    placement = _placement(cohort, results, max_shift_mm=max_shift_mm, min_dice=min_dice)
    settings.update(max_shift_mm=max_shift_mm, min_dice=min_dice)
    result = LongitudinalResult(cohort, changes, tests, assoc, resp, mixed, settings,
                                reliable=reliable, error_model=error_model, placement=placement)
    if outdir is not None:
        result.paths = write_tables(result, outdir, report=report)
    return result
