"""``mrsquant basis simulate|convert|info``: make, convert and describe basis sets."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..basis.names import canonical_name
from ..errors import InputError


def add_subparser(sub) -> None:
    p = sub.add_parser("basis", help="simulate, convert or describe basis sets",
                       description="Simulate basis spectra (ideal or shaped pulses), convert between "
                                   "basis formats, or describe a basis set.")
    bsub = p.add_subparsers(dest="basis_command", metavar="ACTION")

    s = bsub.add_parser("simulate", help="density-matrix simulation of a basis set")
    s.add_argument("--like", metavar="FILE",
                   help="take sequence, TE, field, points and bandwidth from this data file's header "
                        "(explicit options still win)")
    s.add_argument("--sequence", choices=("pulse-acquire", "press", "steam", "slaser", "mega-press",
                                          "hermes", "hercules"),
                   help="hermes (GABA+GSH) / hercules: the four sub-experiments simulated and combined "
                        "(sum, diff_gaba, diff_gsh) into an edited basis folder; TE default 80 ms "
                        "(docs/editing.md)")
    s.add_argument("--te", type=float, default=None, metavar="MS", help="echo time (ms)")
    s.add_argument("--te1", type=float, metavar="MS", help="PRESS/MEGA-PRESS first echo time (ms)")
    s.add_argument("--te2", type=float, metavar="MS", help="PRESS/MEGA-PRESS second echo time (ms)")
    s.add_argument("--tm", type=float, metavar="MS", help="STEAM mixing time (ms)")
    s.add_argument("--field-mhz", type=float, metavar="F",
                   help="spectrometer frequency (MHz), e.g. 123.2 at 3T")
    s.add_argument("--points", type=int, default=None, metavar="N", help="default 2048")
    s.add_argument("--bandwidth", type=float, default=None, metavar="HZ", help="default 4000")
    s.add_argument("--metabolites", metavar="LIST",
                   help="comma-separated names (default: the whole library); MM/lipid names "
                        "such as MM0.92 or Lip13 add Gaussian components")
    s.add_argument("--mm", nargs="?", const="consensus", choices=("consensus", "standard"), default=None,
                   help="add Gaussian MM and lipid components: 'consensus' (default with a bare --mm: the "
                        "17 consensus positions) or 'standard' (LCModel's 8 default components; recommended "
                        "for short-TE in-vivo fits, docs/fitting.md)")
    s.add_argument("--spin-variant", action="append", default=[], metavar="NAME=VARIANT",
                   help="use a cited alternative spin-system entry for one metabolite instead "
                        "of the default table (repeatable): GSH=tkac2008, Asc=terpstra2006; "
                        "see docs/basis.md")
    s.add_argument("--edit-ppm", type=float, metavar="P", help="MEGA-PRESS ON editing frequency")
    s.add_argument("--edit-off-ppm", type=float, default=7.5, metavar="P")
    s.add_argument("--edit-bw", type=float, default=60.0, metavar="HZ",
                   help="editing pulse full width (Hz); spins inside are inverted")
    s.add_argument("--edit-state", choices=("on", "off", "diff", "all"), default="all",
                   help="MEGA-PRESS output: all writes OUT_on, OUT_off and OUT_diff")
    s.add_argument("--lw", type=float, default=0.0, metavar="HZ", help="Lorentzian broadening")
    s.add_argument("--reference-ppm", type=float, metavar="P",
                   help="add a 1-proton singlet at this shift (e.g. 0) to every metabolite")
    s.add_argument("--refocusing-pulse", metavar="FILE",
                   help="PRESS or sLASER: shaped refocusing pulses (Siemens .pta, or .RF such "
                        "as an adiabatic full passage; sLASER uses one identical pair per "
                        "direction) with slice profiles and chemical-shift displacement "
                        "instead of ideal 180s")
    s.add_argument("--refocusing-ms", type=float, default=5.2, metavar="MS",
                   help="duration of the shaped refocusing pulse (default 5.2 ms; sLASER needs "
                        "<= TE/4)")
    s.add_argument("--refocusing-b1-hz", type=float, metavar="HZ",
                   help="peak B1 (Hz) of an adiabatic refocusing pulse (default: lowest B1 "
                        "with >= 99%% inversion over the central half of the band)")
    s.add_argument("--pulse-carrier-ppm", type=float, default=3.0, metavar="P",
                   help="carrier of the shaped pulses (default 3.0 ppm)")
    s.add_argument("--editing-pulse", metavar="PTA",
                   help="MEGA-PRESS only: shaped editing pulses (Siemens .pta) instead of ideal "
                        "selective inversions (--edit-bw is then unused); see docs/basis.md")
    s.add_argument("--editing-ms", type=float, default=14.0, metavar="MS",
                   help="duration of the shaped editing pulse (default 14 ms; must fit the "
                        "TE timing: <= TE/2 and <= (TE2 - TE1)/2)")
    s.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="*.BASIS writes LCModel, anything else an mrsquant basis folder")
    s.set_defaults(func=run_simulate)

    c = bsub.add_parser("convert", help="convert a basis set to another format")
    c.add_argument("input", metavar="IN")
    c.add_argument("-o", "--output", required=True, metavar="OUT")
    c.add_argument("--format", choices=("auto", "mrsquant", "fsl", "jmrui", "lcmodel"),
                   default="auto", help="auto: *.BASIS -> LCModel, *.txt -> jMRUI, else mrsquant")
    c.add_argument("--field-mhz", type=float, metavar="F",
                   help="for formats without a header (text folders)")
    c.add_argument("--te", type=float, metavar="MS", help="TE to record when the input lacks it")
    c.set_defaults(func=run_convert)

    i = bsub.add_parser("info", help="describe a basis set")
    i.add_argument("basis", metavar="BASIS")
    i.set_defaults(func=run_info)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _write(basis, out: Path, fmt: str = "auto") -> Path:
    from ..basis.formats import WRITERS  # lazy: startup
    from ..basis.io import save_basis  # lazy: startup
    if fmt == "auto":
        return save_basis(basis, out)
    if fmt == "lcmodel":
        from ..basis.lcmodel import write_lcmodel_basis  # lazy: startup
        write_lcmodel_basis(basis, out)
        return out
    WRITERS[fmt](basis, out)
    return out


def _suffixed(out: Path, tag: str) -> Path:
    if out.suffix.lower() == ".basis":
        return out.with_name(f"{out.stem}_{tag}{out.suffix}")
    return out.with_name(f"{out.name}_{tag}")


def _fill_from_like(args) -> None:
    """``--like FILE``: unset options from the file's header; then the usual defaults."""
    if args.like:
        from ..basis.like import like_parameters  # lazy: startup
        from ..io import load  # lazy: startup

        p = like_parameters(load(args.like), sequence=args.sequence)
        for attr, key in (("sequence", "sequence"), ("te", "te_ms"), ("field_mhz", "field_mhz"),
                          ("points", "n_points"), ("bandwidth", "bandwidth_hz"), ("tm", "tm_ms"),
                          ("mm", "macromolecules")):
            if getattr(args, attr, None) is None and p.get(key) is not None:
                setattr(args, attr, p[key])
    for attr, default in (("te", 0.0), ("points", 2048), ("bandwidth", 4000.0)):
        if getattr(args, attr) is None:
            setattr(args, attr, default)
    if args.sequence is None or args.field_mhz is None:
        raise InputError("basis simulate needs --sequence and --field-mhz (or --like FILE)")


def run_simulate(args) -> int:
    from ..basis.simulate import simulate_basis  # lazy: startup
    _fill_from_like(args)
    mets = None
    if args.metabolites:
        mets = [m.strip() for m in args.metabolites.split(",") if m.strip()]
    if args.sequence == "mega-press" and args.edit_ppm is None:
        raise InputError("--sequence mega-press needs --edit-ppm (1.9 for GABA, 4.56 for GSH)")
    if args.editing_pulse is not None and args.sequence != "mega-press":
        raise InputError("--editing-pulse is for --sequence mega-press only")
    spin_variants = _spin_variants(args.spin_variant, mets)
    if args.sequence in ("hermes", "hercules"):
        return _simulate_edited(args, mets, spin_variants)
    states = ["on", "off", "diff"] if (args.sequence == "mega-press" and args.edit_state == "all") \
        else [args.edit_state if args.sequence == "mega-press" else "diff"]
    out = Path(args.output)
    for state in states:
        basis = simulate_basis(
            args.sequence, te_ms=args.te, te1_ms=args.te1, te2_ms=args.te2, tm_ms=args.tm,
            field_mhz=args.field_mhz, n_points=args.points, bandwidth_hz=args.bandwidth,
            metabolites=mets, edit_ppm=args.edit_ppm, edit_off_ppm=args.edit_off_ppm,
            edit_bw_hz=args.edit_bw, edit_state=state, lw_hz=args.lw,
            macromolecules=args.mm, reference_ppm=args.reference_ppm,
            refocusing_pulse=args.refocusing_pulse, refocusing_ms=args.refocusing_ms,
            pulse_carrier_ppm=args.pulse_carrier_ppm, spin_variants=spin_variants,
            refocusing_b1_hz=args.refocusing_b1_hz,
            editing_pulse=args.editing_pulse, editing_ms=args.editing_ms, progress=True)
        target = _suffixed(out, state) if len(states) > 1 else out
        basis.provenance["command"] = "mrsquant basis simulate " + " ".join(_cli_echo(args))
        _write(basis, target)
        print(f"wrote {target}: {len(basis.names)} spectra ({', '.join(basis.names)})")
    return 0


def _simulate_edited(args, mets, spin_variants) -> int:
    """HERMES / HERCULES: an edited basis folder (sum, diff_gaba, diff_gsh) at ``--output``."""
    from ..basis.edited import save_edited_basis  # lazy: startup
    from ..basis.simulate import simulate_edited_basis  # lazy: startup

    if Path(args.output).suffix.lower() in (".basis", ".txt"):
        raise InputError(f"--sequence {args.sequence} writes an edited basis folder (one basis per "
                         f"combination); give a folder name, not {args.output}")
    te = args.te if args.te else 80.0
    eb = simulate_edited_basis(
        args.sequence, te_ms=te, te1_ms=args.te1, te2_ms=args.te2, field_mhz=args.field_mhz,
        n_points=args.points, bandwidth_hz=args.bandwidth, metabolites=mets,
        edit_off_ppm=args.edit_off_ppm, edit_bw_hz=args.edit_bw, lw_hz=args.lw,
        macromolecules=args.mm, reference_ppm=args.reference_ppm, spin_variants=spin_variants,
        progress=True)
    for b in eb.bases.values():
        b.provenance["command"] = "mrsquant basis simulate " + " ".join(_cli_echo(args))
    save_edited_basis(eb, args.output)
    print(f"wrote {args.output}: {args.sequence} TE {te:g} ms, combinations "
          f"{', '.join(eb.combinations)}; {len(eb.names)} spectra ({', '.join(eb.names)})")
    return 0


def _spin_variants(items, mets) -> dict | None:
    """``--spin-variant NAME=VARIANT`` values as ``{canonical name: variant}`` (None if none).

    Checked here, before anything is simulated or written: the metabolite must have cited
    variants, the variant must be one of them, and the metabolite must be simulated.
    """
    if not items:
        return None
    from ..basis.spin_systems import library  # lazy: startup
    known = {name: list(entry["variants"]) for name, entry in library().items()
             if entry.get("variants")}
    choices = ", ".join(f"{n}={v}" for n, vs in known.items() for v in vs)
    simulated = None if mets is None else {canonical_name(m) for m in mets}
    chosen: dict[str, str] = {}
    for item in items:
        raw_name, sep, raw_variant = item.partition("=")
        name, variant = canonical_name(raw_name), raw_variant.strip()
        if not sep or not raw_name.strip() or not variant:
            raise InputError(f"--spin-variant {item!r}: expected NAME=VARIANT; choices: {choices}")
        if name not in known:
            raise InputError(f"--spin-variant {item!r}: no cited variants for {raw_name.strip()!r}; "
                             f"choices: {choices}")
        match = {v.lower(): v for v in known[name]}.get(variant.lower())
        if match is None:
            raise InputError(f"--spin-variant {item!r}: {name} has no variant {variant!r}; "
                             f"choices: {', '.join(f'{name}={v}' for v in known[name])}")
        if chosen.get(name, match) != match:
            raise InputError(f"--spin-variant: {name} given twice ({chosen[name]}, {match})")
        if simulated is not None and name not in simulated:
            raise InputError(f"--spin-variant {item!r}: {name} is not in --metabolites")
        chosen[name] = match
    return chosen


def _cli_echo(args) -> list[str]:
    keys = ("sequence", "te", "te1", "te2", "tm", "field_mhz", "points", "bandwidth",
            "metabolites", "edit_ppm", "edit_state", "lw", "reference_ppm", "refocusing_pulse",
            "refocusing_b1_hz", "editing_pulse")
    words = [f"--{k.replace('_', '-')} {getattr(args, k)}" for k in keys
             if getattr(args, k, None) is not None]
    words += [f"--spin-variant {v}" for v in getattr(args, "spin_variant", None) or []]
    return words


def run_convert(args) -> int:
    from ..basis.io import load_basis  # lazy: startup
    kw = {}
    if args.field_mhz:
        kw["spectrometer_frequency_mhz"] = args.field_mhz
    basis = load_basis(args.input, **kw)
    if args.te is not None and basis.te_ms is None:
        basis = basis.replace(te_ms=args.te)
    out = _write(basis, Path(args.output), args.format)
    print(f"wrote {out}: {len(basis.names)} spectra")
    return 0


def run_info(args) -> int:
    from ..basis.io import load_basis  # lazy: startup
    b = load_basis(args.basis)
    spec = np.abs(b.fids[:, 0])
    print(f"basis      {args.basis}")
    print(f"format     {b.provenance.get('format', '?')}")
    print(f"spectra    {len(b.names)}")
    print(f"points     {b.n_points}  dwell {b.dwelltime_s * 1e6:.1f} us "
          f"(bandwidth {1 / b.dwelltime_s:.1f} Hz)")
    print(f"frequency  {b.spectrometer_frequency_mhz:.4f} MHz")
    print(f"TE         {'unknown' if b.te_ms is None else f'{b.te_ms:g} ms'}")
    print(f"sequence   {b.sequence}")
    variants = b.provenance.get("spin_variants")
    if variants:
        print("variants   " + ", ".join(f"{k}={v}" for k, v in variants.items()))
    for name, a0, sc in zip(b.names, spec, b.scaling):
        print(f"  {name:8s} |FID(0)| {a0:9.4g}  scaling {sc:g}")
    return 0
