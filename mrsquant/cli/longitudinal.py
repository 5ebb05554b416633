"""``mrsquant longitudinal``: metabolite changes between visits against symptom scores."""
from __future__ import annotations

import re

from ..errors import InputError


def add_subparser(sub):
    p = sub.add_parser(
        "longitudinal", help="change scores, paired tests, correlations with symptom scores, "
        "mixed models and a PDF",
        description="Assemble a cohort from `mrsquant fit` results and a BIDS-style scores table, "
        "compute per-participant metabolite changes and their statistics. "
        "Writes changes.tsv, tests.tsv, associations.tsv, responders.tsv, mixed.tsv, "
        "exclusions.tsv, reliable_change.tsv, error_model.tsv, cohort.nc and longitudinal.pdf "
        "(docs/longitudinal.md).")
    p.add_argument("--results", nargs="+", metavar="DIR_OR_TSV",
                   help="`mrsquant fit` output folders or concentrations.tsv files")
    p.add_argument("--scores", metavar="TSV",
                   help="scores.tsv: participant_id, session_id, HAMD17/MADRS/PHQ9..., "
                   "optional group/treatment, time and covariates")
    p.add_argument("--sessions", metavar="TSV",
                   help="spectrum, participant_id, session_id table (when names carry no "
                   "sub-/ses- entities)")
    p.add_argument("--baseline", metavar="LABEL", help="baseline session (default: first in time)")
    p.add_argument("-o", "--outdir", help="output folder")
    p.add_argument("--measures", nargs="+", metavar="M",
                   help="A/B for amplitude ratios, A for conc_mm (default: tNAA/tCr tCho/tCr "
                   "mI/tCr Glx/tCr Glu/tCr Gln/tCr GABA/tCr GSH/tCr Tau/tCr tCho/tNAA Glx/GABA, "
                   "and tCr in mM with a water reference; one note per default that cannot "
                   "be formed)")
    p.add_argument("--scales", nargs="+", metavar="NAME",
                   help="score columns to analyse (default: HAMD17, MADRS, PHQ9, BDI-II, "
                   "QIDS-SR16 when present; aliases such as HAM-D, HDRS, HRSD, PHQ-9 "
                   "are recognised)")
    p.add_argument("--allow-unmatched", action="store_true",
                   help="go on when score rows match no spectrum, spectra have no score row "
                   "or the scores table has unknown session labels (default: refuse)")
    p.add_argument("--max-prior-influence", type=float, default=0.5, metavar="X",
                   help="leave out prior-dominated estimates: prior_influence > X in "
                   "concentrations.tsv (default 0.5; for a ratio the larger of its two)")
    p.add_argument("--min-group-n", type=int, default=10, metavar="N",
                   help="below N per group, responder comparisons use a permutation test "
                   "instead of Welch t (default 10)")
    p.add_argument("--no-random-slopes", action="store_true",
                   help="random intercept only in the mixed model (default: random slopes of "
                   "time with >= 3 visits)")
    p.add_argument("--retest", nargs="+", metavar="DIR_OR_TSV",
                   help="`mrsquant fit` results of test-retest scans (two sessions per "
                   "participant): between-session SD for the reliable-change index "
                   "(default: literature CVs, --cv)")
    p.add_argument("--harmonise-site", metavar="COL",
                   help="ComBat-harmonise measures across the sites/scanners in this scores-table "
                   "column (time and group protected; needs mrsquant[clinical])")
    p.add_argument("--max-voxel-shift-mm", type=float, default=5.0, metavar="MM",
                   help="flag a follow-up visit whose voxel centre moved more than this from the "
                   "baseline's (placement.tsv; default 5 mm)")
    p.add_argument("--min-voxel-dice", type=float, default=0.7, metavar="D",
                   help="flag a follow-up visit whose voxel mask overlaps the baseline's with Dice "
                   "below this (needs `fit --t1` masks on one grid; default 0.7)")
    _add_analysis_options(p)
    p.set_defaults(func=run)
    _add_power_parser(p)


def _add_analysis_options(p):
    """Statistics, QC inclusion and bootstrap options of `mrsquant longitudinal`."""
    p.add_argument("--match", metavar="TEXT", help="use only spectra whose name contains TEXT")
    p.add_argument("--change", choices=("delta", "delta_percent", "log_ratio"), default="delta",
                   help="change correlated with score change (default delta)")
    p.add_argument("--response-fraction", type=float, default=0.5, metavar="F",
                   help="response = score reduced by at least F of baseline (default 0.5)")
    p.add_argument("--remission", nargs="+", metavar="RULE",
                   help="remission rules, e.g. HAMD17<=7 MADRS<=10 'PHQ9<5' (these are defaults)")
    p.add_argument("--cv", nargs="+", metavar="NAME=PCT",
                   help="test-retest CV in percent for MDC95, by measure or metabolite "
                   "(e.g. NAA/tCr=4 GABA=10)")
    p.add_argument("--bonferroni", action="store_true",
                   help="Bonferroni instead of Benjamini-Hochberg FDR")
    p.add_argument("--group", metavar="COL", help="group column for time x group in the mixed "
                   "model (default: 'group' or 'treatment' if present)")
    p.add_argument("--no-group", action="store_true", help="no group term in the mixed model")
    p.add_argument("--covariates", nargs="+", default=(), metavar="COL",
                   help="scores-table columns added to the mixed model (e.g. age sex)")
    qc = p.add_argument_group("QC inclusion rules")
    qc.add_argument("--min-snr", type=float, help="minimum SNR (default: not applied)")
    qc.add_argument("--max-fwhm-ppm", type=float, default=0.1,
                    help="maximum linewidth in ppm (default 0.1; 0 disables)")
    qc.add_argument("--max-crlb", type=float, metavar="PCT",
                    help="relative CRLB limit (never applied to GABA, GSH, Gln and other "
                    "low-concentration metabolites: their absolute CRLB is reported)")
    qc.add_argument("--allow-status", nargs="+", default=(), metavar="STATUS",
                    help="qc.tsv statuses accepted besides 'ok'")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--no-report", action="store_true", help="do not write longitudinal.pdf")


def _add_power_parser(p):
    """`mrsquant longitudinal power`: sample size."""
    sub2 = p.add_subparsers(dest="longitudinal_command", metavar="power")
    pw = sub2.add_parser(
        "power", help="sample size for a change in percent (paired or multi-visit design)",
        description="Sample size (completers and enrolment) for a true change of EFFECT percent "
        "of the mean from the first to the last visit, a between-participant CV, a correlation "
        "between visits and dropout; the test is the paired t-test (2 visits) or the "
        "per-participant slope / random-slope time effect (3+ visits). Model and check by "
        "simulation in docs/longitudinal.md.")
    pw.add_argument("--effect", type=float, required=True, metavar="PCT",
                    help="true mean change, percent of the mean (e.g. 5)")
    pw.add_argument("--cv", type=float, required=True, metavar="PCT",
                    help="between-participant CV of the measure at one visit, percent")
    pw.add_argument("--visit-corr", type=float, required=True, metavar="R",
                    help="correlation between two visits of one participant")
    pw.add_argument("--visits", type=int, default=2, help="visits, equally spaced (default 2)")
    pw.add_argument("--dropout", type=float, default=0.0, metavar="F",
                    help="fraction of enrolled participants lost (default 0)")
    pw.add_argument("--power", type=float, default=0.8, help="target power (default 0.8)")
    pw.add_argument("--alpha", type=float, default=0.05, help="two-sided alpha (default 0.05)")
    pw.add_argument("--slope-sd", type=float, default=0.0, metavar="PCT",
                    help="SD of the participants' true changes, percent (default 0)")
    pw.set_defaults(func=run_power)


def run_power(args) -> int:
    from ..longitudinal.power import sample_size  # lazy: startup

    checks = [(args.visits >= 2, "--visits must be at least 2"),
              (-1 < args.visit_corr < 1, "--visit-corr must be between -1 and 1"),
              (args.cv > 0, "--cv must be positive"), (args.effect != 0, "--effect must not be 0"),
              (0 <= args.dropout < 1, "--dropout must be in [0, 1)"),
              (0 < args.power < 1 and 0 < args.alpha < 1, "--power and --alpha must be in (0, 1)"),
              (args.slope_sd >= 0, "--slope-sd must be >= 0")]
    for ok, msg in checks:
        if not ok:
            raise InputError(msg)
    try:
        out = sample_size(args.effect, args.cv, args.visit_corr, visits=args.visits, dropout=args.dropout,
                          target_power=args.power, alpha=args.alpha,
                          slope_sd_percent=args.slope_sd)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    design = "paired t-test" if args.visits == 2 else \
        f"{args.visits} visits, per-participant slope (random-slope time effect)"
    print(f"design: {design}, alpha {args.alpha:g} two-sided")
    print(f"SD of a participant's change: {out['sd_change_percent']:.3g} % (dz {out['dz']:.3g})")
    print(f"completers needed: {out['n_completers']} (power {out['power']:.3f})")
    print(f"enrol: {out['n_enrol']} (dropout {100 * args.dropout:g} %)")
    return 0


def _parse_cv(items) -> dict:
    out = {}
    for item in items or ():
        m = re.fullmatch(r"\s*([^=\s]+)\s*=\s*([0-9.eE+-]+)\s*", item)
        if not m:
            raise InputError(f"cannot read --cv {item!r}; write NAME=PERCENT, e.g. NAA/tCr=4")
        out[m.group(1)] = float(m.group(2))
    return out


def run(args) -> int:
    from ..longitudinal import QCRules  # lazy: startup

    if not args.results or not args.outdir:
        raise InputError("longitudinal needs --results and -o OUTDIR (or the 'power' "
                         "subcommand)")
    from ..app.longitudinal import run_longitudinal  # lazy: startup
    from ..longitudinal.analysis import parse_remission  # lazy: startup

    if args.n_boot < 100:
        raise InputError("--n-boot must be at least 100")
    if not 0.0 <= args.max_prior_influence <= 1.0:
        raise InputError("--max-prior-influence must be between 0 and 1")
    if args.min_group_n < 2:
        raise InputError("--min-group-n must be at least 2")
    if not args.max_voxel_shift_mm > 0 or not 0.0 <= args.min_voxel_dice <= 1.0:
        raise InputError("--max-voxel-shift-mm must be positive and --min-voxel-dice between 0 and 1")
    rules = QCRules(statuses=("ok",) + tuple(args.allow_status), min_snr=args.min_snr,
                    max_fwhm_ppm=args.max_fwhm_ppm or None, max_crlb_percent=args.max_crlb)
    group = None if args.no_group else (args.group or "auto")
    result = run_longitudinal(
        args.results, args.scores, outdir=args.outdir, sessions=args.sessions,
        baseline=args.baseline, measures=args.measures, scales=args.scales, match=args.match,
        rules=rules, change=args.change, response_fraction=args.response_fraction,
        remission=parse_remission(args.remission) if args.remission else None,
        cv_percent=_parse_cv(args.cv), correction="bonferroni" if args.bonferroni else "fdr_bh",
        n_boot=args.n_boot, seed=args.seed, group=group, covariates=args.covariates,
        report=not args.no_report, allow_unmatched=args.allow_unmatched,
        max_prior_influence=args.max_prior_influence, min_group_n=args.min_group_n,
        random_slopes=False if args.no_random_slopes else "auto", retest=args.retest,
        harmonise_site=args.harmonise_site, max_shift_mm=args.max_voxel_shift_mm,
        min_dice=args.min_voxel_dice)
    for line in result.summary():
        print(line)
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {', '.join(p.name for p in result.paths.values())} to {args.outdir}")
    return 0
