"""``mrsquant segment T1 SPECTRA -o OUTDIR``: the voxel's GM/WM/CSF fractions from a T1.

Writes ``fractions.tsv``, ``tissue.toml`` (for ``mrsquant fit --quant-config``),
``voxel_mask.nii.gz`` and ``voxel.png`` (docs/quantification.md, "Tissue fractions from a T1").
"""
from __future__ import annotations

import sys


def add_subparser(sub):
    p = sub.add_parser("segment", help="GM/WM/CSF fractions of the voxel from a T1",
                       description="Place the spectroscopy voxel on the T1 (the spectrum's NIfTI-MRS "
                                   "affine, scanner coordinates), take GM/WM/CSF maps from FSL FAST "
                                   "(*_pve_0/1/2), SPM (c1/c2/c3) or FreeSurfer (aparc+aseg/aseg) or "
                                   "segment the T1 itself (it must be skull-stripped), and write the "
                                   "fractions, the [tissue] quant TOML, the voxel mask and a picture.")
    p.add_argument("t1", metavar="T1", help="T1-weighted image (NIfTI or MGH), in the spectrum's scanner "
                                            "space; skull-stripped when it is to be segmented")
    p.add_argument("spectra", metavar="SPECTRA", help="the spectrum (NIfTI-MRS or any format `convert` "
                                                      "reads, with its voxel geometry)")
    p.add_argument("-o", "--outdir", required=True, metavar="OUTDIR", help="output folder")
    p.add_argument("--tissue-maps", nargs="+", metavar="PATH",
                   help="FAST/SPM tissue maps (three files or their folder) or a FreeSurfer aseg; "
                        "default: segment the T1")
    p.add_argument("--segmenter", choices=("builtin", "atropos"), default="builtin",
                   help="how to segment the T1 without --tissue-maps (atropos needs mrsquant[segment])")
    p.add_argument("--other-visit", metavar="SPECTRA",
                   help="another visit's spectrum in the same scanner frame: adds centre_distance_mm and "
                        "dice (voxel placement)")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..app.segment import segment_files  # lazy: startup

    def progress(msg):
        if not args.quiet:
            print(f"mrsquant segment: {msg} ...", file=sys.stderr, flush=True)

    row = segment_files(args.t1, args.spectra, args.outdir, tissue_maps=args.tissue_maps,
                        segmenter=args.segmenter, other=args.other_visit, progress=progress)
    extra = ""
    if "dice" in row:
        extra = f"; other visit: centre {row['centre_distance_mm']:.1f} mm away, Dice {row['dice']:.2f}"
    print(f"{row['spectrum']}: GM {row['f_gm']:.3f}  WM {row['f_wm']:.3f}  CSF {row['f_csf']:.3f} "
          f"({row['source']}){extra} -> {args.outdir}")
    return 0
