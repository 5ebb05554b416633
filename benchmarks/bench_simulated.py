"""Accuracy and CRLB honesty on fresh random spectra with known truth.

Spectra are made from the challenge basis (incl. its measured MM) with random
concentrations drawn uniformly from published normal ranges, random Voigt
linewidth, shift, phase and SNR, then fitted by mrsquant. Reports the mean
absolute % error of ratios to tCr and, at fixed parameters with many noise
realisations, the empirical SD / mean reported CRLB.

Usage: python benchmarks/bench_simulated.py [--n 200] [--seed 1] [--write]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import date
from pathlib import Path

import numpy as np

import mrsquant as mq
from mrsquant import axes
from mrsquant.basis.io import load_basis
from mrsquant.fitting import FitModel

from _docs import write_section

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data"))
RANGES = {"NAA": (8, 14), "NAAG": (0.5, 2.5), "Cr": (4, 7), "PCr": (3, 5), "GPC": (0.5, 1.5), "PCh": (0.2, 0.8),
          "Glu": (7, 12), "Gln": (2, 6), "mI": (4, 8), "GABA": (0.8, 2.2), "GSH": (1, 3), "Tau": (1, 3),
          "Asp": (1, 3), "Lac": (0.2, 1.5), "Ala": (0.1, 1), "Asc": (0.5, 1.5), "Glc": (0.5, 2), "Gly": (0.3, 1.2),
          "PE": (0.8, 2), "sI": (0.1, 0.5), "Mac": (6, 14), "Ace": (0, 0.3)}
REPORTED = ["tNAA", "tCho", "Glu", "Glx", "mI", "Gln", "GABA", "GSH", "Tau"]


def make_spectra(basis, n, rng, *, snr=(20, 150), lw=(2, 8), fixed=False):
    names = basis.names
    lo = np.array([RANGES.get(m, (0, 0))[0] for m in names])
    hi = np.array([RANGES.get(m, (0, 0))[1] for m in names])
    conc = np.tile((lo + hi) / 2, (n, 1)) if fixed else rng.uniform(lo, hi, (n, len(names)))
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    l = np.full(n, np.mean(lw)) if fixed else rng.uniform(*lw, n)
    g = np.full(n, 2.0) if fixed else rng.uniform(0, 4, n)          # Gaussian FWHM Hz
    sh = np.zeros(n) if fixed else rng.uniform(-4, 4, n)
    ph = np.zeros(n) if fixed else rng.uniform(-np.pi, np.pi, n)
    s_g = (np.pi * g / 2) ** 2 / np.log(2)
    mod = np.exp(-2j * np.pi * sh[:, None] * t - np.pi * l[:, None] * t - s_g[:, None] * t ** 2 + 1j * ph[:, None])
    fid = (conc @ basis.fids) * mod
    # noise from the target NAA SNR (peak height / noise SD of the real part)
    spec = axes.to_spectrum(fid * np.exp(-1j * ph[:, None]))
    ppm = basis.ppm
    naa = spec[:, np.abs(ppm - 2.01) < 0.05].real.max(axis=1)
    target = np.full(n, np.mean(snr)) if fixed else rng.uniform(*snr, n)
    sd_spec = naa / target
    sd_time = sd_spec / np.sqrt(basis.n_points)
    noise = (rng.standard_normal(fid.shape) + 1j * rng.standard_normal(fid.shape)) * sd_time[:, None]
    s = mq.Spectra(data=fid + noise, dims=("spectrum",), dwelltime_s=basis.dwelltime_s,
                   spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=30)
    return s, conc


def combined_truth(conc, names):
    c = dict(zip(names, conc.T))
    out = dict(c)
    out["tNAA"] = c["NAA"] + c["NAAG"]
    out["tCr"] = c["Cr"] + c["PCr"]
    out["tCho"] = c["GPC"] + c["PCh"]
    out["Glx"] = c["Glu"] + c["Gln"]
    return out


def accuracy(basis, n, seed, **options):
    rng = np.random.default_rng(seed)
    s, conc = make_spectra(basis, n, rng)
    r = FitModel(basis, **options).fit(s)
    tr = combined_truth(conc, basis.names)
    rat = r.ratio("tCr")
    return {m: np.mean(100 * np.abs(rat[:, r.metabolites.index(m)] / (tr[m] / tr["tCr"]) - 1)) for m in REPORTED}


def crlb_honesty(basis, n, seed, **options):
    rng = np.random.default_rng(seed)
    s, conc = make_spectra(basis, n, rng, fixed=True, snr=(40, 40))
    r = FitModel(basis, **options).fit(s)
    out = {}
    for m in ("tNAA", "tCr", "tCho", "Glu", "Glx", "mI"):
        i = r.metabolites.index(m)
        out[m] = np.std(r.amplitude[:, i], ddof=1) / np.mean(r.crlb_abs[:, i])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--strength", type=float, default=None)
    args = ap.parse_args(argv)
    basis = load_basis(DATA / "fitting_challenge_2016" / "basisset_text_noTMS")
    opts = {} if args.strength is None else {"prior_strength": args.strength}
    acc = accuracy(basis, args.n, args.seed, **opts)
    acc_np = accuracy(basis, args.n, args.seed, priors=None)
    hon = crlb_honesty(basis, args.n, args.seed + 1, priors=None)
    hon_p = crlb_honesty(basis, args.n, args.seed + 1, **opts)
    lines = ["| | " + " | ".join(REPORTED) + " |", "|---" * (len(REPORTED) + 1) + "|",
             "| mrsquant (default, priors) | " + " | ".join(f"{acc[m]:.1f}" for m in REPORTED) + " |",
             "| mrsquant (no priors) | " + " | ".join(f"{acc_np[m]:.1f}" for m in REPORTED) + " |"]
    hl = ["| | " + " | ".join(hon) + " |", "|---" * (len(hon) + 1) + "|",
          "| SD / CRLB (no priors) | " + " | ".join(f"{v:.2f}" for v in hon.values()) + " |",
          "| SD / CRLB (priors) | " + " | ".join(f"{v:.2f}" for v in hon_p.values()) + " |"]
    text = "\n".join(lines) + "\n\nCRLB honesty (same spectrum, NAA SNR 40, " + str(args.n) + " noise realisations):\n\n" + "\n".join(hl)
    print(text)
    if args.write:
        write_section("simulated", (
            f"## Fresh simulated spectra (mean absolute % error of ratios to tCr)\n\n{date.today()}, "
            f"{platform.machine()} {os.cpu_count()} cores, Python {sys.version.split()[0]}; command: "
            f"`python benchmarks/bench_simulated.py --n {args.n} --seed {args.seed} --write`. "
            f"{args.n} spectra: challenge basis with its measured MM, concentrations uniform in "
            f"normal ranges, Lorentzian 2-8 Hz + Gaussian 0-4 Hz, shift +-4 Hz, random phase, NAA SNR 20-150.\n\n{text}"))


if __name__ == "__main__":
    main()
