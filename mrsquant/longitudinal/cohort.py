"""Assemble a cohort from ``mrsquant fit`` tables and a BIDS-style scores table.

The result is an :class:`xarray.Dataset` with dimensions
``(participant, session, metabolite)`` for the fit table columns,
``(participant, session, measure)`` for the analysed quantities (ratios such as
``NAA/tCr`` computed from amplitudes, or ``conc_mm`` of one metabolite) and
``(participant, session)`` for QC figures and symptom scores. Everything that
is left out on the way (unreadable names, failed fits, QC failures, duplicate
spectra, missing metabolites) becomes a row of the exclusions table; nothing
is dropped silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..basis.names import COMBINED, canonical_name
from ..errors import InputError
from ..io.bids import parse_entities

__all__ = [
    "DEFAULT_MEASURES", "LOW_CONCENTRATION", "KNOWN_SCALES", "DEFAULT_MAX_PRIOR_INFLUENCE",
    "QCRules", "Cohort",
    "parse_entities", "read_results", "read_scores", "read_sessions", "order_sessions",
    "assemble_cohort",
]

#: measures analysed by default: amplitude ratios, and tCr in mM (``conc_mm``, water
#: scaled) when the fit had a water reference. At 3T NAA and NAAG are not separable,
#: so the "NAA/Cr" of the literature is tNAA/tCr. A default measure that cannot be
#: formed from the table is skipped with one note saying why.
DEFAULT_MEASURES = ("tNAA/tCr", "tCho/tCr", "mI/tCr", "Glx/tCr", "Glu/tCr", "Gln/tCr",
                    "GABA/tCr", "GSH/tCr", "Tau/tCr", "tCho/tNAA", "Glx/GABA", "tCr")

#: low-concentration metabolites never dropped on relative CRLB alone (Kreis 2016,
#: NMR Biomed 29:1162): their absolute CRLB is reported instead
LOW_CONCENTRATION = ("GABA", "GSH", "Gln", "Asp", "Tau", "sI", "Lac", "Ala", "Asc", "Gly", "PE")

#: clinical scales recognised by name in scores.tsv (others are used when named)
KNOWN_SCALES = ("HAMD17", "MADRS", "PHQ9", "BDI-II", "QIDS-SR16")

#: estimates whose prior influence (fraction of the precision from a concentration
#: prior, column ``prior_influence`` of concentrations.tsv) exceeds this are
#: prior-dominated and left out of the statistics by default
DEFAULT_MAX_PRIOR_INFLUENCE = 0.5

EXCLUSION_COLUMNS = ("participant_id", "session_id", "spectrum", "measure", "action", "reason")

_CONC_COLUMNS = ("amplitude", "crlb_percent", "crlb_abs", "ratio_tcr", "conc_mm", "conc_crlb_mm",
                 "prior_influence")
_QC_COLUMNS = ("snr", "fwhm_ppm", "fwhm_hz", "fqn")
_TISSUE_COLUMNS = ("f_gm", "f_wm", "f_csf")
#: scale column names after lower-casing and removing everything but letters and digits
_SCALE_ALIASES = {
    **dict.fromkeys(("hamd", "hamd17", "hdrs", "hdrs17", "hrsd", "hrsd17", "ham17"), "HAMD17"),
    "madrs": "MADRS",
    **dict.fromkeys(("phq9", "phq"), "PHQ9"),
    **dict.fromkeys(("bdiii", "bdi2", "bdi"), "BDI-II"),
    **dict.fromkeys(("qidssr16", "qidssr", "qids16sr", "qids"), "QIDS-SR16"),
}
#: columns giving the time of a visit, and its unit
_TIME_COLUMNS = {"time": "", "week": "weeks", "weeks": "weeks", "time_weeks": "weeks",
                 "day": "days", "days": "days", "time_days": "days",
                 "month": "months", "months": "months"}
#: score cells read as missing (BIDS writes n/a)
_MISSING_TEXT = ("", "n/a", "na", "nan", "none", "null")
_DATE_COLUMNS = ("date", "scan_date", "acq_date", "acquisition_date", "visit_date")
_RESERVED = {"participant_id", "session_id", "group", "treatment", "spectrum",
             *_TIME_COLUMNS, *_DATE_COLUMNS}


@dataclass(frozen=True)
class QCRules:
    """Stated rules for including a spectrum or a value.

    Attributes
    ----------
    statuses : tuple of str
        ``qc.tsv`` statuses that pass (default only ``ok``).
    min_snr : float or None
        Minimum SNR (definition in docs/conventions.md); None = not applied.
    max_fwhm_ppm : float or None
        Maximum linewidth in ppm (default 0.1 ppm; Wilson et al. 2019 consensus).
    max_crlb_percent : float or None
        Relative-CRLB limit for a measure's metabolites. Never applied to
        :data:`LOW_CONCENTRATION` metabolites: those are kept and flagged with
        their absolute CRLB (Kreis 2016). None (default) = not applied.
    """

    statuses: tuple = ("ok",)
    min_snr: float | None = None
    max_fwhm_ppm: float | None = 0.1
    max_crlb_percent: float | None = None

    def describe(self) -> list[str]:
        out = [f"fit status in {{{', '.join(self.statuses)}}}"]
        if self.min_snr is not None:
            out.append(f"SNR >= {self.min_snr:g}")
        if self.max_fwhm_ppm is not None:
            out.append(f"FWHM <= {self.max_fwhm_ppm:g} ppm")
        if self.max_crlb_percent is not None:
            out.append(f"CRLB <= {self.max_crlb_percent:g} % (not applied to "
                       f"{', '.join(LOW_CONCENTRATION[:3])}...; absolute CRLB reported)")
        else:
            out.append("no relative-CRLB cut (absolute CRLB reported)")
        return out


@dataclass
class Cohort:
    """An assembled cohort: the labelled data and what was left out."""

    data: xr.Dataset
    exclusions: pd.DataFrame
    scales: tuple
    sessions: tuple
    baseline: str
    notes: list = field(default_factory=list)

    @property
    def measures(self) -> tuple:
        return tuple(self.data["measure"].values.tolist())


# --------------------------------------------------------------------------- names
def _sub(label) -> str:
    s = str(label).strip()
    return s if s.startswith("sub-") else f"sub-{s}"


def _ses(label) -> str:
    s = str(label).strip()
    return s if s.startswith("ses-") else f"ses-{s}"


def _natural_key(label: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", label)]


_EARLY = ("baseline", "base", "bl", "pre", "before", "screen", "screening", "t0", "w0", "v0", "test")
_LATE = ("post", "after", "follow", "followup", "fu", "end", "final", "retest", "rescan")


def order_sessions(labels, *, times: dict | None = None, baseline: str | None = None) -> list[str]:
    """Sessions in time order.

    Order comes from ``times`` (session -> median numeric time) when given,
    else from numbers in the labels (``ses-01 < ses-02``, ``w2 < w12``), else
    from words (``pre``/``baseline`` before ``post``/``followup``).
    ``baseline`` moves that session first.

    Raises
    ------
    InputError
        When the order cannot be told and no baseline is given.

    Examples
    --------
    >>> order_sessions(["ses-post", "ses-pre"])
    ['ses-pre', 'ses-post']
    """
    labels = list(dict.fromkeys(labels))
    if baseline is not None:
        baseline = _ses(baseline)
        if baseline not in labels:
            raise InputError(f"baseline session {baseline!r} not among sessions {', '.join(labels)}")
    if times and all(np.isfinite(times.get(s, np.nan)) for s in labels):
        ordered = sorted(labels, key=lambda s: (times[s], _natural_key(s)))
    elif all(re.search(r"\d", s[4:]) for s in labels):
        ordered = sorted(labels, key=lambda s: _natural_key(s[4:]))
    else:
        def rank(s):
            w = s[4:].lower()
            if any(w.startswith(e) for e in _EARLY):
                return 0
            if any(w.startswith(e) for e in _LATE):
                return 2
            return 1
        groups: dict = {}
        for s in labels:
            groups.setdefault(rank(s), []).append(s)
        unclear = any(len(g) > 1 and not all(re.search(r"\d", s[4:]) for s in g)
                      for g in groups.values())
        if unclear and baseline is None:
            raise InputError(f"cannot tell the time order of sessions {', '.join(labels)}; "
                             "pass --baseline LABEL or a numeric 'time' column")
        ordered = sorted(labels, key=lambda s: (rank(s), _natural_key(s)))
    if baseline is not None:
        ordered.remove(baseline)
        ordered.insert(0, baseline)
    return ordered


# --------------------------------------------------------------------------- readers
def _read_tsv(path: Path, required, what: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep="\t", dtype={"spectrum": str, "participant_id": str,
                                                 "session_id": str})
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path} is not a readable TSV table ({exc})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"{what} {path} lacks column(s) {', '.join(missing)} "
                         f"(has {', '.join(map(str, df.columns))})")
    return df


def read_results(paths) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Read ``concentrations.tsv`` (and the ``qc.tsv`` next to it) from files or folders.

    Parameters
    ----------
    paths : path or sequence of paths
        ``mrsquant fit`` output folders, or ``concentrations.tsv`` files.

    Returns
    -------
    concentrations, qc : DataFrames
        Metabolite names canonicalised; ``qc`` has one row per spectrum (a
        spectrum without a qc row gets status ``no qc row``).
    notes : list of str
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    concs, qcs, ratios, notes = [], [], [], []
    for p in map(Path, paths):
        if p.is_dir():
            conc_path, qc_path = p / "concentrations.tsv", p / "qc.tsv"
        else:
            conc_path, qc_path = p, p.parent / "qc.tsv"
        conc = _read_tsv(conc_path, ("spectrum", "metabolite", "amplitude"), "results table")
        concs.append(conc)
        if (conc_path.parent / "ratios.tsv").is_file():
            ratios.append(_read_tsv(conc_path.parent / "ratios.tsv", ("spectrum", "ratio", "sd"),
                                    "ratios table"))
        if qc_path.is_file():
            qcs.append(_read_tsv(qc_path, ("spectrum", "status"), "QC table"))
        else:
            notes.append(f"no qc.tsv next to {conc_path}: SNR/linewidth rules not applied there")
            qcs.append(pd.DataFrame({"spectrum": conc["spectrum"].unique(), "status": "ok"}))
    if not concs:
        raise InputError("no results given (--results DIR_OR_TSV)")
    conc, qc = _normalise_results(pd.concat(concs, ignore_index=True),
                                  pd.concat(qcs, ignore_index=True))
    if ratios:
        conc.attrs["ratios"] = pd.concat(ratios, ignore_index=True)
    return conc, qc, notes


def _ratio_sd(conc: pd.DataFrame, measure: str, spec_arr) -> np.ndarray | None:
    """SD of an amplitude ratio per (participant, session) from the fit's full covariance
    (``ratios.tsv`` of ``mrsquant fit --ratios``, first order, numerator-denominator
    covariance included), or None when the fit did not write it."""
    tab = conc.attrs.get("ratios")
    if tab is None or "/" not in measure:
        return None
    num, den = measure.split("/", 1)
    names = tab["ratio"].astype(str).str.split("/", n=1)
    canon = names.map(lambda nd: "/".join(m if m in COMBINED else canonical_name(m) for m in nd)
                      if len(nd) == 2 else "")
    hit = tab[canon == f"{num}/{den}"]
    if hit.empty:
        return None
    sd = pd.to_numeric(hit["sd"], errors="coerce")
    by = dict(zip(hit["spectrum"].astype(str), sd))
    out = np.array([[by.get(str(x), np.nan) for x in row] for row in spec_arr], dtype=float)
    return out if np.isfinite(out).any() else None


def _normalise_results(conc: pd.DataFrame, qc: pd.DataFrame):
    """Canonical names, numeric columns, one qc row per spectrum."""
    for name, df, req in (("results", conc, ("spectrum", "metabolite", "amplitude")),
                          ("QC", qc, ("spectrum", "status"))):
        missing = [c for c in req if c not in df.columns]
        if missing:
            raise InputError(f"{name} table lacks column(s) {', '.join(missing)}")
    conc = conc.copy()
    qc = qc.copy()
    conc["spectrum"] = conc["spectrum"].astype(str)
    conc["metabolite"] = conc["metabolite"].astype(str).map(
        lambda m: m if m in COMBINED else canonical_name(m))
    for col in _CONC_COLUMNS:
        if col not in conc.columns:
            conc[col] = np.nan
        conc[col] = pd.to_numeric(conc[col], errors="coerce")
    # older result folders have no prior_influence column: no prior, influence 0
    conc["prior_influence"] = conc["prior_influence"].fillna(0.0)
    qc["spectrum"] = qc["spectrum"].astype(str)
    qc["status"] = qc["status"].fillna("unknown").astype(str).str.strip()
    for col in _QC_COLUMNS:
        if col not in qc.columns:
            qc[col] = np.nan
        qc[col] = pd.to_numeric(qc[col], errors="coerce")
    qc = qc.drop_duplicates("spectrum", keep="last")
    missing = sorted(set(conc["spectrum"]) - set(qc["spectrum"]))
    if missing:
        qc = pd.concat([qc, pd.DataFrame({"spectrum": missing, "status": "no qc row"})],
                       ignore_index=True)
    return conc, qc


def _scale_name(col: str) -> str:
    """Canonical scale name of a column (``HAM-D``, ``hdrs_17``, ``BDI-II`` -> ``HAMD17``, ...).

    Examples
    --------
    >>> _scale_name("HAM-D-17"), _scale_name("phq_9"), _scale_name("QIDS-SR16")
    ('HAMD17', 'PHQ9', 'QIDS-SR16')
    """
    key = re.sub(r"[^a-z0-9]", "", str(col).strip().lower())
    return _SCALE_ALIASES.get(key, str(col).strip())


def _first_few(items, k: int = 5) -> str:
    items = list(items)
    return ", ".join(map(str, items[:k])) + (f" ... ({len(items)} in all)" if len(items) > k else "")


def _normalise_scores(df: pd.DataFrame, what: str = "scores table") -> pd.DataFrame:
    """Canonical scale names and ``sub-``/``ses-`` labels; one row per participant and session."""
    for c in ("participant_id", "session_id"):
        if c not in df.columns:
            raise InputError(f"{what} lacks column {c} (has {', '.join(map(str, df.columns))})")
    names = {c: _scale_name(c) for c in df.columns if c not in _RESERVED}
    clash = pd.Series(names).loc[lambda v: v.duplicated(keep=False)]
    if len(clash):
        raise InputError(f"{what}: columns {', '.join(clash.index)} are all the scale "
                         f"{clash.iloc[0]}; keep one")
    df = df.rename(columns=names)
    df["participant_id"] = df["participant_id"].map(_sub)
    df["session_id"] = df["session_id"].map(_ses)
    dup = df.duplicated(["participant_id", "session_id"], keep="first")
    if dup.any():
        pairs = [f"{r.participant_id} {r.session_id}" for r in df[dup].itertuples()]
        raise InputError(f"{what} has duplicate rows for {_first_few(dict.fromkeys(pairs))}: "
                         "one row per participant and session")
    return df


def read_scores(path) -> pd.DataFrame:
    """Read a BIDS-style ``scores.tsv`` (``participant_id, session_id`` + scales).

    Scale columns ``HAMD17``, ``MADRS``, ``PHQ9``, ``BDI-II``, ``QIDS-SR16`` are
    recognised, with their aliases compared case and punctuation insensitively
    (``HAM-D``, ``HDRS``, ``HRSD``, ``HAMD-17``, ``PHQ-9``, ``BDI2``...);
    ``group``/``treatment``, ``time``/``weeks``/``days``/``date`` and any other
    columns are kept for covariates. Labels are normalised to ``sub-<label>``
    and ``ses-<label>``.

    Raises
    ------
    InputError
        Duplicate participant/session rows, or two columns naming the same scale.
    """
    df = _read_tsv(Path(path), ("participant_id", "session_id"), "scores table")
    return _normalise_scores(df, f"scores table {path}")


def read_sessions(path) -> pd.DataFrame:
    """Read a ``--sessions`` table: ``spectrum, participant_id, session_id`` (+ ``time``, tissue fractions)."""
    df = _read_tsv(Path(path), ("spectrum", "participant_id", "session_id"), "sessions table")
    return _normalise_sessions(df)


def _normalise_sessions(df: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("spectrum", "participant_id", "session_id") if c not in df.columns]
    if missing:
        raise InputError(f"sessions table lacks column(s) {', '.join(missing)}")
    df = df.copy()
    df["spectrum"] = df["spectrum"].astype(str).map(parse_stem)
    df["participant_id"] = df["participant_id"].map(_sub)
    df["session_id"] = df["session_id"].map(_ses)
    return df


def parse_stem(name: str) -> str:
    """File name without folder and extension, as ``mrsquant fit`` names spectra.

    Examples
    --------
    >>> parse_stem("raw/dataset1.txt"), parse_stem("sub-01_ses-pre_svs.nii.gz")
    ('dataset1', 'sub-01_ses-pre_svs')
    """
    stem = Path(str(name)).name
    for ext in (".nii.gz", ".nii"):
        if stem.endswith(ext):
            return stem[: -len(ext)]
    m = re.fullmatch(r"(.+)\.[A-Za-z0-9]{1,5}", stem)
    return m.group(1) if m else stem


# --------------------------------------------------------------------------- measures
def _components(name):
    return COMBINED.get(name, (name,))


def _metabolite_values(ds, name):
    """Amplitude, absolute CRLB and prior influence of a metabolite, summing
    components when the combined name is not in the table (CRLBs then added in
    quadrature, influence the largest of the parts); or a reason string."""
    amp, crlb_abs, infl = ds["amplitude"], ds["crlb_abs"], ds["prior_influence"]
    mets = list(amp.metabolite.values)
    if name in mets and np.isfinite(amp.sel(metabolite=name).values).any():
        return (amp.sel(metabolite=name).values, crlb_abs.sel(metabolite=name).values,
                infl.sel(metabolite=name).values)
    comps = _components(name)
    if len(comps) > 1:
        lacking = [c for c in comps if c not in mets]
        if not lacking:
            a = sum(amp.sel(metabolite=c).values for c in comps)
            s = np.sqrt(sum(crlb_abs.sel(metabolite=c).values ** 2 for c in comps))
            i = np.max([infl.sel(metabolite=c).values for c in comps], axis=0)
            return a, s, i
        return (f"{name} is not in the fit results and cannot be formed "
                f"({'+'.join(comps)}: {', '.join(lacking)} missing)")
    if name in mets:
        return f"{name} has no finite amplitude in the fit results"
    return f"{name} is not in the fit results"


def _measure_values(ds, measure):
    """Value, CRLB%, absolute CRLB (measure units) and prior influence of one
    measure, or a string saying why it cannot be formed.

    The prior influence of a ratio is the larger of its numerator's and
    denominator's (docs/longitudinal.md)."""
    if "/" in measure:
        num, den = measure.split("/", 1)
        got_a = _metabolite_values(ds, num)
        got_b = _metabolite_values(ds, den)
        why = [g for g in (got_a, got_b) if isinstance(g, str)]
        if why:
            return "; ".join(why)
        (a, sa, ia), (b, sb, ib) = got_a, got_b
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(b > 0, b, np.nan)
            value = a / b
            rel = np.sqrt((sa / a) ** 2 + (sb / b) ** 2)
        return value, 100 * rel, np.abs(value) * rel, np.fmax(ia, ib)
    mets = list(ds.metabolite.values)
    comps = _components(measure)
    if measure in mets:
        conc = ds["conc_mm"].sel(metabolite=measure).values
        rel = ds["crlb_percent"].sel(metabolite=measure).values
        infl = ds["prior_influence"].sel(metabolite=measure).values
    elif len(comps) > 1 and all(c in mets for c in comps):
        conc = sum(ds["conc_mm"].sel(metabolite=c).values for c in comps)
        sd = np.sqrt(sum((ds["conc_mm"].sel(metabolite=c).values
                          * ds["crlb_percent"].sel(metabolite=c).values / 100.0) ** 2
                         for c in comps))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = 100.0 * sd / np.abs(conc)
        infl = np.max([ds["prior_influence"].sel(metabolite=c).values for c in comps], axis=0)
    else:
        return f"{measure} (mM) is not in the fit results"
    if not np.isfinite(conc).any():
        return f"{measure} (mM): no conc_mm values (no water reference in the fit)"
    absolute = np.abs(conc) * rel / 100.0
    if measure in mets and "conc_crlb_mm" in ds:
        given = ds["conc_crlb_mm"].sel(metabolite=measure).values
        absolute = np.where(np.isfinite(given), given, absolute)
    return conc, rel, absolute, infl


def _measure_metabolites(measure):
    out = []
    for part in measure.split("/"):
        out.extend(_components(part))
    return out


def _check_matching(index: pd.DataFrame, sc: pd.DataFrame, allow: bool, notes: list) -> None:
    """Refuse (InputError) session labels, score rows and spectra that do not pair up,
    unless ``allow`` (``--allow-unmatched``): then say how many in ``notes``."""
    spec_ses = list(dict.fromkeys(index["session_id"]))
    unknown = [x for x in dict.fromkeys(sc["session_id"]) if x not in spec_ses]
    spec_keys = set(zip(index["participant_id"], index["session_id"]))
    score_keys = set(zip(sc["participant_id"], sc["session_id"]))
    no_spec = sorted(score_keys - spec_keys, key=lambda k: (_natural_key(k[0]), k[1]))
    no_score = sorted(spec_keys - score_keys, key=lambda k: (_natural_key(k[0]), k[1]))
    hint = "; pass --allow-unmatched to go on without them"
    if unknown and not allow:
        raise InputError(f"scores table has unknown session label(s) {_first_few(unknown)} "
                         f"(the spectra's sessions are {', '.join(spec_ses)})" + hint)
    if no_spec and not allow:
        raise InputError(f"{len(no_spec)} score row(s) match no spectrum: "
                         f"{_first_few(' '.join(k) for k in no_spec)}" + hint)
    if no_score and not allow:
        raise InputError(f"{len(no_score)} spectrum/spectra have no score row: "
                         f"{_first_few(' '.join(k) for k in no_score)}" + hint)
    if unknown:
        notes.append(f"--allow-unmatched: session label(s) {', '.join(unknown)} of the scores "
                     "table have no spectra")
    if no_spec or no_score:
        notes.append(f"--allow-unmatched: {len(no_spec)} score row(s) without a spectrum and "
                     f"{len(no_score)} spectrum/spectra without a score row (exclusions.tsv)")


def _session_times(st, sc) -> tuple[dict, str]:
    """Median time of each session and its unit, from a ``time``/``weeks``/``days``
    column or from visit dates (days since the participant's first visit)."""
    for table in (st, sc):
        if table is None or table.empty:
            continue
        cols = {c.lower(): c for c in table.columns}
        for key, unit in _TIME_COLUMNS.items():
            if key in cols:
                t = pd.to_numeric(table[cols[key]], errors="coerce")
                if t.notna().any():
                    return table.assign(_t=t).groupby("session_id")["_t"].median().to_dict(), unit
        for key in _DATE_COLUMNS:
            if key in cols:
                d = pd.to_datetime(table[cols[key]], errors="coerce")
                if d.notna().sum() >= 2:
                    first = d.groupby(table["participant_id"]).transform("min")
                    days = (d - first).dt.total_seconds() / 86400.0
                    return table.assign(_t=days).groupby("session_id")["_t"].median().to_dict(), \
                        "days"
    return {}, ""


# --------------------------------------------------------------------------- assembly
def assemble_cohort(results, scores=None, *, sessions=None, baseline: str | None = None,
                    measures=None, rules: QCRules = QCRules(), match: str | None = None,
                    scales=None, allow_unmatched: bool = False,
                    max_prior_influence: float | None = DEFAULT_MAX_PRIOR_INFLUENCE) -> Cohort:
    """Build the cohort Dataset and the exclusions table.

    Parameters
    ----------
    results : path(s), or a ``(concentrations, qc)`` pair of DataFrames
    scores : path or DataFrame or None
        BIDS-style scores table.
    sessions : path or DataFrame or None
        Maps spectra to participants/sessions when names carry no
        ``sub-``/``ses-`` entities (columns ``spectrum, participant_id, session_id``).
    baseline : str or None
        Baseline session label; default the first in time order.
    measures : sequence of str or None
        ``"A/B"`` = amplitude ratio, ``"A"`` = ``conc_mm`` of A. Default
        :data:`DEFAULT_MEASURES` (those whose metabolites were fitted).
    rules : QCRules
    match : str or None
        Keep only spectra whose name contains this text (e.g. ``acq-acc``
        when several voxels per session were fitted).
    scales : sequence of str or None
        Score columns analysed; default the recognised scales
        (:data:`KNOWN_SCALES` and their aliases).
    allow_unmatched : bool
        Go on when score rows match no spectrum, spectra have no score row, or
        the scores table has session labels no spectrum has (default: refuse).
    max_prior_influence : float or None
        Values whose prior influence exceeds this are prior-dominated and left
        out (exclusions table); None keeps them.

    Raises
    ------
    InputError
        Duplicate rows, unmatched rows (unless ``allow_unmatched``), non-numeric
        scores, unknown session labels, an explicit measure that cannot be formed.
    """
    notes: list[str] = []
    excl: list[dict] = []

    def exclude(pid="", sid="", spectrum="", measure="*", action="excluded", reason=""):
        excl.append(dict(participant_id=pid, session_id=sid, spectrum=spectrum, measure=measure,
                         action=action, reason=reason))

    conc, qc = _load_results(results, match, notes)
    index, st = _index_spectra(conc, sessions, notes, exclude)
    _refuse_duplicate_rows(conc, index)
    sc, scales = _load_scores(scores, scales, notes)
    # ---- every score row must match a spectrum and every spectrum a score row
    if scores is not None:
        _check_matching(index, sc, allow_unmatched, notes)
    # ---- axes
    participants = sorted(set(index["participant_id"]) | set(sc["participant_id"]), key=_natural_key)
    times, time_unit = _session_times(st, sc)
    session_labels = list(index["session_id"]) + list(sc["session_id"])
    sessions_ordered = order_sessions(session_labels, times=times, baseline=baseline)
    baseline = sessions_ordered[0]
    metabolites = list(dict.fromkeys(conc["metabolite"]))
    p_ix = {p: i for i, p in enumerate(participants)}
    s_ix = {s: i for i, s in enumerate(sessions_ordered)}
    data_vars, spec_arr, status = _spectrum_arrays(index, conc, qc, st, p_ix, s_ix, metabolites)
    # ---- spectrum-level QC
    included = _spectrum_qc(index, data_vars, status, rules, p_ix, s_ix, exclude)
    data_vars["spectrum"] = (("participant", "session"), spec_arr)
    data_vars["included"] = (("participant", "session"), included)
    ds = xr.Dataset(data_vars, coords={"participant": participants, "session": sessions_ordered,
                                       "metabolite": metabolites})
    ds = _add_measures(ds, conc, measures, spec_arr, included, participants, sessions_ordered,
                      metabolites, rules, max_prior_influence, notes, exclude)
    # ---- scores and covariates on (participant, session)
    ds, has_score_row = _add_scores(ds, sc, scales, p_ix, s_ix, sessions_ordered, times, time_unit, notes)
    # ---- pairing / score completeness reports
    _pairing_report(ds, participants, sessions_ordered, spec_arr, included, has_score_row, scales,
                    baseline, exclude)
    if not scales and scores is not None:
        notes.append("no score columns (HAMD17, MADRS, PHQ9 or --scales): associations skipped")

    ds.attrs.update(baseline=baseline, scales=",".join(scales), qc_rules="; ".join(rules.describe()),
                    max_prior_influence=("none" if max_prior_influence is None
                                         else float(max_prior_influence)),
                    description="mrsquant longitudinal cohort")
    exclusions = pd.DataFrame(excl, columns=list(EXCLUSION_COLUMNS))
    return Cohort(ds, exclusions, scales, tuple(sessions_ordered), baseline, notes)


def _load_results(results, match, notes):
    """Concentration and QC tables from paths or a DataFrame pair, ``--match`` applied."""
    if isinstance(results, tuple) and len(results) == 2 and isinstance(results[0], pd.DataFrame):
        conc, qc = _normalise_results(results[0], results[1])
    else:
        conc, qc, n = read_results(results)
        notes.extend(n)
    if match:
        keep = conc["spectrum"].str.contains(match, regex=False)
        notes.append(f"--match {match!r}: {int((~keep).sum() and conc.loc[~keep, 'spectrum'].nunique())} "
                     "spectra not matching were ignored")
        conc = conc[keep]
        qc = qc[qc["spectrum"].str.contains(match, regex=False)]
    if conc.empty:
        raise InputError("the results hold no spectra" + (f" matching {match!r}" if match else ""))

    return conc, qc


def _index_spectra(conc, sessions, notes, exclude):
    """``spectrum, participant_id, session_id`` for every fitted spectrum (from the names'
    sub-/ses- entities or the --sessions table); one spectrum per participant and session."""
    spectra = list(dict.fromkeys(conc["spectrum"]))
    if sessions is not None:
        st = _normalise_sessions(sessions) if isinstance(sessions, pd.DataFrame) \
            else read_sessions(sessions)
        mapping = st.drop_duplicates("spectrum", keep="last").set_index("spectrum")
        unknown = sorted(set(mapping.index) - set(conc["spectrum"].map(parse_stem))
                         - set(conc["spectrum"]))
        if unknown:
            notes.append(f"{len(unknown)} --sessions row(s) match no fitted spectrum: "
                         f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
    else:
        st, mapping = None, None
    rows = []
    for s in spectra:
        key = s if (mapping is not None and s in mapping.index) else parse_stem(s)
        if mapping is not None and key in mapping.index:
            pid, sid = mapping.at[key, "participant_id"], mapping.at[key, "session_id"]
        else:
            ent = parse_entities(s)
            if "sub" not in ent or "ses" not in ent:
                exclude(spectrum=s, reason="participant/session unknown: name has no sub-/ses- "
                        "entities and no --sessions row")
                continue
            pid, sid = _sub(ent["sub"]), _ses(ent["ses"])
        rows.append((s, pid, sid))
    index = pd.DataFrame(rows, columns=["spectrum", "participant_id", "session_id"])
    if index.empty:
        raise InputError("no spectrum could be assigned to a participant and session "
                         "(names need sub-<label>_ses-<label>, or pass --sessions)")
    dups = index[index.duplicated(["participant_id", "session_id"], keep=False)]
    if not dups.empty:
        g = dups.groupby(["participant_id", "session_id"])["spectrum"].apply(list).iloc[0]
        raise InputError(f"several spectra for one participant and session ({', '.join(g)}); "
                         "select one with --match TEXT (e.g. the acq-/voi- entity)")

    return index, st


def _refuse_duplicate_rows(conc, index):
    """The same participant, session and metabolite twice is refused."""
    dupm = conc.duplicated(["spectrum", "metabolite"], keep="first")
    if dupm.any():
        lab = index.set_index("spectrum")
        rows = [f"{lab.at[r.spectrum, 'participant_id']} {lab.at[r.spectrum, 'session_id']} "
                f"{r.metabolite}" if r.spectrum in lab.index else f"{r.spectrum} {r.metabolite}"
                for r in conc[dupm].itertuples()]
        raise InputError(f"results have duplicate rows (same participant, session and metabolite "
                         f"{int(dupm.sum())} times): {_first_few(dict.fromkeys(rows), 3)}; "
                         "was a results folder given twice?")


def _load_scores(scores, scales, notes):
    """The scores table with the analysed scales numeric (non-numeric cells refused)."""
    if scores is None:
        sc = pd.DataFrame(columns=["participant_id", "session_id"])
    elif isinstance(scores, pd.DataFrame):
        sc = _normalise_scores(scores.copy())
    else:
        sc = read_scores(scores)
    if scales is None:
        scales = [c for c in sc.columns if c not in _RESERVED and c in KNOWN_SCALES]
    else:
        scales = list(dict.fromkeys(_scale_name(s) for s in scales))
        bad = [s for s in scales if s not in sc.columns]
        if bad:
            raise InputError(f"scale(s) {', '.join(bad)} not in the scores table "
                             f"(columns {', '.join(sc.columns)})")
    for col in scales:
        num = pd.to_numeric(sc[col], errors="coerce")
        text = sc[col].astype(str).str.strip().str.lower()
        bad = num.isna() & sc[col].notna() & ~text.isin(_MISSING_TEXT)
        if bad.any():
            cells = [f"{r.participant_id} {r.session_id} {r.value!r}"
                     for r in sc.loc[bad, ["participant_id", "session_id"]]
                     .assign(value=sc.loc[bad, col]).itertuples()]
            raise InputError(f"scores table: {col} has non-numeric values ({_first_few(cells, 3)}); "
                             "leave a cell empty or n/a for a missing score")
        sc[col] = num
    if scores is not None:
        other = [c for c in sc.columns if c not in _RESERVED and c not in scales
                 and pd.api.types.is_numeric_dtype(sc[c])]
        if other:
            notes.append(f"numeric score columns not analysed as scales (covariates?): "
                         f"{', '.join(other)}; name them with --scales to analyse them")
    scales = tuple(scales)

    return sc, scales


def _spectrum_arrays(index, conc, qc, st, p_ix, s_ix, metabolites):
    """Concentration, QC and tissue columns on the (participant, session[, metabolite]) grid."""
    P, S, M = len(p_ix), len(s_ix), len(metabolites)
    m_ix = {m: i for i, m in enumerate(metabolites)}
    data_vars = {}
    spec_arr = np.full((P, S), "", dtype=object)
    for s, pid, sid in index.itertuples(index=False):
        spec_arr[p_ix[pid], s_ix[sid]] = s
    sub = conc.merge(index, on="spectrum")
    pi = sub["participant_id"].map(p_ix).to_numpy()
    si = sub["session_id"].map(s_ix).to_numpy()
    mi = sub["metabolite"].map(m_ix).to_numpy()
    for col in _CONC_COLUMNS:
        arr = np.full((P, S, M), np.nan)
        arr[pi, si, mi] = sub[col].to_numpy(dtype=float)
        data_vars[col] = (("participant", "session", "metabolite"), arr)
    # ---- QC per spectrum
    qcm = index.merge(qc, on="spectrum", how="left")
    qpi = qcm["participant_id"].map(p_ix).to_numpy()
    qsi = qcm["session_id"].map(s_ix).to_numpy()
    for col in _QC_COLUMNS:
        arr = np.full((P, S), np.nan)
        arr[qpi, qsi] = qcm[col].to_numpy(dtype=float)
        data_vars[col] = (("participant", "session"), arr)
    status = np.full((P, S), "", dtype=object)
    status[qpi, qsi] = qcm["status"].fillna("no qc row").to_numpy(dtype=object)
    data_vars["status"] = (("participant", "session"), status)
    for col in _TISSUE_COLUMNS:
        src = st if (st is not None and col in st.columns) else (qc if col in qc.columns else None)
        if src is not None:
            tm = index.merge(src[["spectrum", col]], on="spectrum", how="left")
            arr = np.full((P, S), np.nan)
            arr[tm["participant_id"].map(p_ix), tm["session_id"].map(s_ix)] = \
                pd.to_numeric(tm[col], errors="coerce").to_numpy(dtype=float)
            data_vars[col] = (("participant", "session"), arr)
    return data_vars, spec_arr, status


def _spectrum_qc(index, data_vars, status, rules, p_ix, s_ix, exclude):
    """Spectrum-level QC rules (status, SNR, FWHM, a failed fit): the included mask."""
    included = np.zeros((len(p_ix), len(s_ix)), dtype=bool)
    for s, pid, sid in index.itertuples(index=False):
        i, j = p_ix[pid], s_ix[sid]
        reasons = []
        stt = status[i, j]
        if stt not in rules.statuses:
            reasons.append(f"fit status '{stt}'")
        snr = data_vars["snr"][1][i, j]
        if rules.min_snr is not None and not (snr >= rules.min_snr):
            reasons.append(f"SNR {snr:.3g} < {rules.min_snr:g}" if np.isfinite(snr) else "SNR unknown")
        fw = data_vars["fwhm_ppm"][1][i, j]
        if rules.max_fwhm_ppm is not None and np.isfinite(fw) and fw > rules.max_fwhm_ppm:
            reasons.append(f"FWHM {fw:.3g} ppm > {rules.max_fwhm_ppm:g} ppm")
        if not np.isfinite(data_vars["amplitude"][1][i, j]).any():
            reasons.append("no finite amplitude (failed fit)")
        if reasons:
            exclude(pid, sid, s, reason="; ".join(reasons))
        else:
            included[i, j] = True
    return included


def _add_measures(ds, conc, measures, spec_arr, included, participants, sessions_ordered, metabolites,
                  rules, max_prior_influence, notes, exclude):
    """Measure values with their CRLBs and prior influence; value-level rules applied."""
    if measures is None:
        measures = list(DEFAULT_MEASURES)
        explicit = False
    else:
        measures = list(measures)
        explicit = True
    values, crlb_p, crlb_a, influence, kept = [], [], [], [], []
    for meas in measures:
        got = _measure_values(ds, meas)
        if isinstance(got, str):
            msg = f"measure {meas} cannot be formed: {got}"
            if explicit:
                raise InputError(msg)
            notes.append(msg + " (skipped)")
            continue
        v, cp, ca, infl = got
        sd_fit = _ratio_sd(conc, meas, spec_arr)
        if sd_fit is not None:
            use = np.isfinite(sd_fit)
            ca = np.where(use, sd_fit, ca)
            with np.errstate(divide="ignore", invalid="ignore"):
                cp = np.where(use, 100.0 * sd_fit / np.abs(v), cp)
            notes.append(f"{meas}: uncertainty from the fit's full covariance (ratios.tsv) for "
                         f"{int(use.sum())} spectra, numerator-denominator covariance included")
        infl = np.nan_to_num(infl, nan=0.0)
        v = np.where(included, v, np.nan)
        # value-level rules
        for i, pid in enumerate(participants):
            for j, sid in enumerate(sessions_ordered):
                if not included[i, j]:
                    continue
                if not np.isfinite(v[i, j]):
                    exclude(pid, sid, spec_arr[i, j], meas,
                            reason="value not finite (metabolite missing, or zero denominator)")
                    continue
                if max_prior_influence is not None and infl[i, j] > max_prior_influence:
                    exclude(pid, sid, spec_arr[i, j], meas,
                            reason=f"prior-dominated: prior influence {infl[i, j]:.2f} > "
                            f"{max_prior_influence:g} (--max-prior-influence)")
                    v[i, j] = np.nan
                    continue
                if rules.max_crlb_percent is not None and cp[i, j] > rules.max_crlb_percent:
                    low = [m for m in _measure_metabolites(meas) if m in LOW_CONCENTRATION]
                    if low:
                        exclude(pid, sid, spec_arr[i, j], meas, action="kept",
                                reason=f"CRLB {cp[i, j]:.0f} % > {rules.max_crlb_percent:g} % "
                                f"but {'/'.join(low)} is low-concentration: absolute CRLB "
                                f"{ca[i, j]:.3g} reported, not dropped (Kreis 2016)")
                    else:
                        exclude(pid, sid, spec_arr[i, j], meas,
                                reason=f"CRLB {cp[i, j]:.0f} % > {rules.max_crlb_percent:g} %")
                        v[i, j] = np.nan
        values.append(v)
        crlb_p.append(cp)
        crlb_a.append(ca)
        influence.append(np.where(included, infl, np.nan))
        kept.append(meas)
    if not kept:
        raise InputError("none of the measures can be computed from the results "
                         f"({', '.join(measures)}); metabolites present: {', '.join(metabolites)}")
    ds = ds.assign_coords(measure=kept)
    ds["value"] = (("participant", "session", "measure"), np.stack(values, axis=-1))
    ds["measure_crlb_percent"] = (("participant", "session", "measure"), np.stack(crlb_p, axis=-1))
    ds["measure_crlb_abs"] = (("participant", "session", "measure"), np.stack(crlb_a, axis=-1))
    ds["prior_influence_measure"] = (("participant", "session", "measure"),
                                     np.stack(influence, axis=-1))
    return ds


def _add_scores(ds, sc, scales, p_ix, s_ix, sessions_ordered, times, time_unit, notes):
    """Scores (``score_*``) and covariates (``cov_*``) on the grid, and the time axis."""
    P, S = len(p_ix), len(s_ix)
    known_sc = sc[sc["participant_id"].isin(p_ix) & sc["session_id"].isin(s_ix)]
    spi = known_sc["participant_id"].map(p_ix).to_numpy()
    ssi = known_sc["session_id"].map(s_ix).to_numpy()
    has_score_row = np.zeros((P, S), dtype=bool)
    has_score_row[spi, ssi] = True
    for col in sc.columns:
        if col in ("participant_id", "session_id"):
            continue
        if pd.api.types.is_numeric_dtype(sc[col]):
            arr = np.full((P, S), np.nan)
            arr[spi, ssi] = known_sc[col].to_numpy(dtype=float)
        else:
            arr = np.full((P, S), "", dtype=object)
            arr[spi, ssi] = known_sc[col].fillna("").astype(str).to_numpy(dtype=object)
        name = f"score_{col}" if col in scales else f"cov_{col}"
        ds[name] = (("participant", "session"), arr)
    ds["time"] = (("session",), np.array([times.get(s, np.nan) if times else np.nan
                                          for s in sessions_ordered], dtype=float))
    ds["time"].attrs["units"] = time_unit
    if not np.isfinite(ds["time"].values).all():
        ds["time"] = (("session",), np.arange(S, dtype=float))
        ds["time"].attrs["units"] = "visits"
        notes.append("time = session order (0 = baseline); add a 'weeks', 'days' or 'date' column to the scores table for a time axis")
    return ds, has_score_row


def _pairing_report(ds, participants, sessions_ordered, spec_arr, included, has_score_row, scales,
                    baseline, exclude):
    """Exclusion rows for missing baselines, single sessions and missing scores."""
    participants, sessions_ordered = list(ds.participant.values), list(ds.session.values)
    for i, pid in enumerate(participants):
        has_spec = spec_arr[i] != ""
        if not has_spec.any():
            exclude(pid, reason="scores but no spectra")
            continue
        usable = included[i]
        if not usable[0]:
            why = "not acquired" if not has_spec[0] else "excluded by QC"
            exclude(pid, baseline, spec_arr[i, 0],
                    reason=f"baseline {why}: no change scores for this participant")
        elif usable.sum() == 1:
            exclude(pid, baseline, spec_arr[i, 0],
                    reason="only one usable session: no change score (kept in mixed model)")
        for j, sid in enumerate(sessions_ordered):
            if not has_spec[j] and (has_score_row[i, j] or j == 0):
                if j != 0:
                    exclude(pid, sid, reason="session has scores but no spectrum")
            if has_spec[j] and scales:
                if not has_score_row[i, j]:
                    exclude(pid, sid, spec_arr[i, j], action="kept",
                            reason="no row in scores table: score changes missing")
                    continue
                for scale in scales:
                    if not np.isfinite(ds[f"score_{scale}"].values[i, j]):
                        exclude(pid, sid, spec_arr[i, j], action="kept",
                                reason=f"{scale} missing: left out of {scale} associations")

