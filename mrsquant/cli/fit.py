"""``mrsquant fit INPUT... --basis BASIS [--water REF...] -o OUTDIR``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..basis.names import canonical_name
from ..errors import BasisMismatchError, InputError


def add_subparser(sub):
    p = sub.add_parser(
        "fit", help="fit spectra with a basis set; write concentrations.tsv, qc.tsv, fit.nc",
        description="Linear-combination fit of one or many spectra (fitted together as one batch). "
                    "Multi-transient input is preprocessed first. LCModel .RAW inputs pick up their .H2O "
                    "water reference, challenge text files their water columns.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="NIfTI-MRS or any format `convert` reads")
    p.add_argument("--basis", help="basis set: folder or LCModel .BASIS file (default: simulated to match the "
                                   "first input's header, sequence/TE/field/points/bandwidth, and cached)")
    p.add_argument("--sequence", choices=("press", "steam", "slaser"),
                   help="without --basis: the sequence to simulate when the header does not name it")
    p.add_argument("--water", nargs="+", metavar="REF", help="unsuppressed water reference(s): one, or one per input")
    p.add_argument("--quant-config", metavar="TOML", help="tissue/relaxation parameters (docs/quantification.md)")
    p.add_argument("-o", "--outdir", required=True, help="output folder")
    p.add_argument("--report", action="store_true", help="also write report.pdf")
    p.add_argument("--ppm-range", nargs=2, type=float, default=(0.2, 4.2), metavar=("LOW", "HIGH"))
    p.add_argument("--baseline", choices=("spline", "poly", "none"), default="spline")
    p.add_argument("--lineshape", choices=("voigt", "lorentzian"), default="voigt")
    p.add_argument("--no-preprocess", action="store_true", help="fit multi-transient data without preprocessing")
    p.add_argument("--edit", choices=("diff", "sum", "off", "on"), default="diff",
                   help="edited (MEGA-PRESS) input: which spectrum to fit (default diff; use a DIFF basis)")
    p.add_argument("--edit-align", choices=("pairs", "conditions"), default=None,
                   help="edited input: align each ON/OFF (or A-D) repetition as one ('pairs': holds down to "
                        "SNR ~5 per transient, docs/benchmarks.md mega-align) or each condition's transients "
                        "separately ('conditions'); default: pairs for HERMES/HERCULES, conditions for MEGA")
    p.add_argument("--priors", choices=("none", "literature"), default="none",
                   help="soft literature priors on minor-metabolite ratios (opt-in; they pull estimates "
                        "towards typical values and shrink real differences; each estimate's prior_influence "
                        "is written to concentrations.tsv; docs/fitting.md)")
    p.add_argument("--no-priors", action="store_true", help=argparse.SUPPRESS)  # the default; kept for scripts
    p.add_argument("--allow-negative", action="store_true",
                   help="metabolite amplitudes may go below 0 (MM/lipids stay >= 0): unbiased group means "
                        "for weak metabolites (GABA, Gln) instead of values clipped at 0 (docs/fitting.md)")
    p.add_argument("--exclude", nargs="+", default=(), metavar="NAME",
                   help="leave these basis members out of the fit (canonical names or aliases)")
    p.add_argument("--include", nargs="+", default=(), metavar="NAME",
                   help="fit only these basis members")
    p.add_argument("--metabolite-shifts", nargs="?", type=float, const=1.0, default=None, metavar="SD_HZ",
                   help="a soft extra frequency shift per metabolite (prior SD, default 1 Hz): recommended "
                        "when the basis comes from a different spin-system table than the data, e.g. a "
                        "simulated basis (docs/fitting.md)")
    p.add_argument("--ratios", nargs="+", default=(), metavar="NUM/DEN",
                   help="also write ratios.tsv with these ratios and their covariance-aware SD, "
                        "e.g. tCho/tNAA Glx/GABA (docs/quantification.md)")
    p.add_argument("--lcmodel-out", nargs="?", const="table,coord,csv", default=None, metavar="FORMATS",
                   help="also write LCModel-style files per spectrum in OUTDIR/lcmodel/ (NAME.table, "
                        "NAME.coord, NAME.csv; default all three, or e.g. table,coord) for tools and "
                        "scripts that read LCModel output (docs/fit_outputs.md)")
    p.add_argument("--gaba-model", choices=("gaba", "gabaglx"), default=None,
                   help="MEGA-PRESS input: also fit Gannet's GABA+ peak model (gaba: one Gaussian; gabaglx: "
                        "GABA and Glx as Gaussian pairs) to DIFF, Cr on OFF, water on the reference; writes "
                        "OUTDIR/gaba_plus.tsv with GABA+/Cr and GABA+/water area ratios and fit SEs "
                        "(docs/fitting.md)")
    p.add_argument("--t1", nargs="+", metavar="T1",
                   help="T1 image(s) in the spectra's scanner space: segment (or read --tissue-maps), compute "
                        "each voxel's GM/WM/CSF fractions and use them in the water scaling; writes "
                        "fractions.tsv, voxel_mask.nii.gz, voxel.png. One T1 per input (same order), or "
                        "BIDS names (sub-XX[_ses-YY]) paired by participant/session (docs/quantification.md)")
    p.add_argument("--tissue-maps", nargs="+", metavar="PATH",
                   help="with --t1: FAST/SPM tissue maps or a FreeSurfer aseg instead of segmenting, as for "
                        "`mrsquant segment` (several T1s: one folder or label file per T1, in order)")
    p.add_argument("--segmenter", choices=("builtin", "atropos"), default="builtin",
                   help="with --t1 and no --tissue-maps: how to segment the skull-stripped T1")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask.distributed scheduler (tcp://host:8786): fit chunks on its workers")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="fit chunks of the batch on N cores at once (default: all available; results identical)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the basis cache (parsed/resampled and simulated bases; "
                        "$MRSQUANT_CACHE, else $XDG_CACHE_HOME/mrsquant or ~/.cache/mrsquant)")
    p.set_defaults(func=run)


#: a single input up to this size is read once more, before the fit, to learn the grid (points,
#: dwell time) its basis is cached for; larger inputs and batches cache the parsed basis only
PEEK_MAX_BYTES = 32 * 2**20


def _jobs_option(jobs):
    if jobs is None:
        return {}
    if jobs < 1:
        raise InputError(f"--jobs needs a positive number of cores, got {jobs}")
    return {"jobs": int(jobs)}


def _t1_options(args):
    from ..errors import InputError  # lazy: startup

    if not args.t1:
        if args.tissue_maps:
            raise InputError("--tissue-maps needs --t1 (the T1 the maps were made from)")
        return {}
    return {"t1": args.t1, "tissue_maps": args.tissue_maps, "segmenter": args.segmenter}


def _shift_options(sd_hz):
    if sd_hz is None:
        return {}
    if not sd_hz > 0:
        raise InputError(f"--metabolite-shifts needs a positive SD in Hz, got {sd_hz}")
    return {"metabolite_shifts": True, "metabolite_shift_sd_hz": float(sd_hz)}


def select_basis(basis, include=(), exclude=()):
    """``basis`` restricted by ``--include`` / ``--exclude`` (unknown names are an error)."""

    if not include and not exclude:
        return basis
    for opt, names in (("--include", include), ("--exclude", exclude)):
        unknown = [n for n in names if canonical_name(n) not in basis.names]
        if unknown:
            raise InputError(f"{opt}: not in the basis: {', '.join(unknown)} (basis has {', '.join(basis.names)})")
    keep = [n for n in basis.names if not include or n in {canonical_name(x) for x in include}]
    keep = [n for n in keep if n not in {canonical_name(x) for x in exclude}]
    if not keep:
        raise InputError("--include/--exclude leave no basis member to fit")
    return basis.select(keep)


def _data_grid(inputs):
    """``(n_points, dwelltime_s)`` of a single, small, readable input; else ``(None, None)``."""

    from ..io import load  # lazy: startup

    if len(inputs) != 1:
        return None, None
    path = Path(inputs[0])
    try:
        if not path.is_file() or path.stat().st_size > PEEK_MAX_BYTES:
            return None, None
        s = load(path)
        return s.n_points, s.dwelltime_s
    except Exception:   # the fit itself reports an unreadable input
        return None, None


def cached_basis(path, inputs, *, cache=True):
    """The ``--basis`` set through the basis cache (:mod:`mrsquant.basis.cache`), resampled to
    a single input's grid when that can be learnt cheaply."""
    from ..basis.cache import cache_enabled, load_basis_cached  # lazy: startup

    if not cache_enabled(cache):
        return path
    n_points, dwell = _data_grid(inputs)
    try:
        return load_basis_cached(path, n_points=n_points, dwelltime_s=dwell)
    except BasisMismatchError:   # cannot be resampled to the data: the fit says why
        return load_basis_cached(path)


def _basis_like(path, sequence, cache=True):
    from ..basis.like import basis_like  # lazy: startup
    from ..io import load  # lazy: startup

    basis, params = basis_like(load(path), sequence=sequence, cache=cache)
    print("basis simulated to match the data: " + ", ".join(f"{k} {v}" for k, v in params.items()
                                                              if v is not None), file=sys.stderr)
    return basis


def run(args) -> int:
    from ..app.exports import fit_files_with_exports, parse_formats  # lazy: startup
    from ..basis.edited import is_edited_folder, load_edited_basis  # lazy: startup
    from ..basis.io import load_basis  # lazy: startup

    lcmodel_out = parse_formats(args.lcmodel_out)   # a bad format is refused before any work
    basis = args.basis
    if basis is None:
        basis = _basis_like(args.inputs[0], args.sequence, cache=not args.no_cache)
    elif is_edited_folder(basis):   # HERMES/HERCULES combinations: fitted jointly (docs/editing.md)
        basis = load_edited_basis(basis)
    else:
        basis = cached_basis(basis, args.inputs, cache=not args.no_cache)
    if args.include or args.exclude:
        basis = select_basis(load_basis(basis) if isinstance(basis, str) else basis, args.include, args.exclude)
    out = fit_files_with_exports(args.inputs, basis, outdir=args.outdir, water=args.water, lcmodel_out=lcmodel_out,
                    quant_config=args.quant_config, report=args.report, progress=not args.quiet, dataset=False,
                    preprocess=not args.no_preprocess, scheduler=args.scheduler, edit=args.edit,
                    edit_align=args.edit_align,
                    ppm_range=tuple(args.ppm_range),
                    baseline=args.baseline, lineshape=args.lineshape,
                    priors=None if args.no_priors or args.priors == "none" else args.priors, ratios=args.ratios,
                    **_shift_options(args.metabolite_shifts), **_jobs_option(args.jobs), **_t1_options(args),
                    **({"nonnegative": False} if args.allow_negative else {}))
    if args.gaba_model:
        from ..app.gaba import gaba_rows, write_gaba_table  # lazy: startup
        write_gaba_table(gaba_rows(args.inputs, model=args.gaba_model, water=args.water,
                                   edit_align=args.edit_align),
                         f"{out['outdir']}/gaba_plus.tsv")
    from ..app.pipeline import summary_line  # lazy: startup
    print(f"{summary_line(out)} -> {out['outdir']}/concentrations.tsv, "
          f"qc.tsv, fit.nc" + (", ratios.tsv" if args.ratios else "") + (", report.pdf" if args.report else "")
          + (f", lcmodel/ ({len(out['lcmodel'])} files)" if lcmodel_out else "")
          + (", gaba_plus.tsv" if args.gaba_model else "")
          + (", fractions.tsv, voxel masks and pictures" if args.t1 else ""))
    return 0
