"""``mrsquant maps INPUT --basis BASIS -o OUTDIR [--mask M] [--water REF] [--scheduler ADDRESS]``."""
from __future__ import annotations


def add_subparser(sub):
    p = sub.add_parser(
        "maps", help="fit an MRSI grid; write metabolite maps (NIfTI) aligned to the input",
        description="Fit every voxel of an MRSI file (NIfTI-MRS with x/y/z dims, or any format `convert` "
                    "reads) as one batch and write OUTDIR/{metabolite}_{ratio_tcr,conc_mm,crlb_percent,"
                    "amplitude}.nii.gz, snr/fwhm_hz/fqn and mask.nii.gz with the input affine.")
    p.add_argument("input", metavar="INPUT", help="MRSI file (coils combined, transients averaged)")
    p.add_argument("--basis", required=True, help="basis set: folder or LCModel .BASIS file")
    p.add_argument("-o", "--outdir", required=True, help="output folder for the maps")
    p.add_argument("--mask", default="snr", metavar="M",
                   help="NIfTI mask (nonzero = fit), 'all', or 'snr' "
                        "(default: NAA magnitude >= --min-snr x noise)")
    p.add_argument("--min-snr", type=float, default=5.0, help="threshold of the default SNR mask (default 5)")
    p.add_argument("--water", metavar="REF",
                   help="unsuppressed water MRSI on the same grid: concentrations in mM")
    p.add_argument("--quant-config", metavar="TOML",
                   help="tissue/relaxation parameters (docs/quantification.md)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler (tcp://host:8786)")
    p.add_argument("--chunk-size", type=int, default=None, help="voxels per batched call / dask task")
    p.add_argument("--ppm-range", nargs=2, type=float, default=(0.2, 4.2), metavar=("LOW", "HIGH"))
    p.add_argument("--baseline", choices=("spline", "poly", "none"), default="spline")
    p.add_argument("--lineshape", choices=("voigt", "lorentzian"), default="voigt")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the parsed-basis cache")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..app.mrsi import fit_maps  # lazy: startup
    from .fit import cached_basis  # lazy: startup

    options = dict(ppm_range=tuple(args.ppm_range), baseline=args.baseline, lineshape=args.lineshape)
    if args.chunk_size:
        options["chunk_size"] = args.chunk_size
    basis = cached_basis(args.basis, [], cache=not args.no_cache)   # parsed only: grids are large
    out = fit_maps(args.input, basis, outdir=args.outdir, mask=args.mask, min_snr=args.min_snr,
                   water=args.water, quant_config=args.quant_config, scheduler=args.scheduler,
                   progress=not args.quiet, **options)
    fit = out["fit"]
    n_fit = int(fit.mask.sum())
    n_failed = 0 if fit.result is None else sum(s.startswith("failed") for s in fit.result.status)
    print(f"fitted {n_fit} of {fit.mask.size} voxels ({n_failed} failed) -> {len(out['paths'])} maps in "
          f"{out['outdir']}")
    return 0
