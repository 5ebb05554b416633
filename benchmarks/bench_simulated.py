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
from pathlib import Path

import numpy as np
from _docs import write_section

import mrsquant as mq
from mrsquant import axes
from mrsquant.basis.io import load_basis
from mrsquant.fitting import FitModel

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data"))
RANGES = {"NAA": (8, 14), "NAAG": (0.5, 2.5), "Cr": (4, 7), "PCr": (3, 5), "GPC": (0.5, 1.5), "PCh": (0.2, 0.8),
          "Glu": (7, 12), "Gln": (2, 6), "mI": (4, 8), "GABA": (0.8, 2.2), "GSH": (1, 3), "Tau": (1, 3),
          "Asp": (1, 3), "Lac": (0.2, 1.5), "Ala": (0.1, 1), "Asc": (0.5, 1.5), "Glc": (0.5, 2), "Gly": (0.3, 1.2),
          "PE": (0.8, 2), "sI": (0.1, 0.5), "Mac": (6, 14), "Ace": (0, 0.3)}
REPORTED = ["tNAA", "tCho", "Glu", "Glx", "mI", "Gln", "GABA", "GSH", "Tau"]


#: metabolites whose truth varies widely (0.3-1.8x normal, issue 12); the others vary 0.6-1.4x
WIDE = ("GABA", "GSH", "Gln", "Tau")


def make_spectra(basis, n, rng, *, snr=(20, 150), lw=(2, 8), fixed=False):
    """``n`` spectra with known truth: concentration = normal value (centre of RANGES) x a
    factor, 0.3-1.8 for GABA/GSH/Gln/Tau and 0.6-1.4 for the rest (MM included), drawn
    independently per metabolite, so that fitted-vs-true slopes test whether differences
    between spectra survive the fit."""
    names = basis.names
    centre = np.array([np.mean(RANGES.get(m, (0, 0))) for m in names])
    lo = np.array([0.3 if m in WIDE else 0.6 for m in names])
    hi = np.array([1.8 if m in WIDE else 1.4 for m in names])
    conc = np.tile(centre, (n, 1)) if fixed else centre * rng.uniform(lo, hi, (n, len(names)))
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
    """Per metabolite: MAPE, bias (mean signed % error), slope of fitted vs true ratio to tCr
    (least squares with intercept), and SD of (fitted - true) / CRLB over the spectra (1 when
    the reported CRLBs describe the real errors, bias included)."""
    rng = np.random.default_rng(seed)
    s, conc = make_spectra(basis, n, rng)
    r = FitModel(basis, **options).fit(s)
    tr = combined_truth(conc, basis.names)
    rat = r.ratio("tCr")
    out = {}
    for m in REPORTED:
        i = r.metabolites.index(m)
        true_ratio = tr[m] / tr["tCr"]
        rel = rat[:, i] / true_ratio - 1
        z = (r.amplitude[:, i] - tr[m]) / r.crlb_abs[:, i]
        out[m] = {"mape": 100 * np.mean(np.abs(rel)), "mean_rel": 100 * np.mean(rel),
                  "bias": 100 * (np.mean(rat[:, i]) / np.mean(true_ratio) - 1),
                  "bias_se": 100 * np.std(rat[:, i] - true_ratio, ddof=1) / np.sqrt(n) / np.mean(true_ratio),
                  "at_zero": 100 * np.mean(r.amplitude[:, i] <= 0),
                  "slope": np.polyfit(true_ratio, rat[:, i], 1)[0],
                  "z_sd": np.std(z[np.isfinite(z)], ddof=1),
                  "influence": np.median(r.prior_influence[:, i])}
    return out


def crlb_honesty(basis, n, seed, **options):
    """Empirical SD over noise realisations of one spectrum / mean reported CRLB."""
    rng = np.random.default_rng(seed)
    s, conc = make_spectra(basis, n, rng, fixed=True, snr=(40, 40))
    r = FitModel(basis, **options).fit(s)
    out = {}
    for m in REPORTED:
        i = r.metabolites.index(m)
        out[m] = np.std(r.amplitude[:, i], ddof=1) / np.mean(r.crlb_abs[:, i])
    return out


def _row(label, values, fmt):
    return f"| {label} | " + " | ".join(format(v, fmt) for v in values) + " |"


def main(argv=None):
    import time

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=None, help="default: a new seed each run (printed)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time()) % 100000
    basis = load_basis(DATA / "fitting_challenge_2016" / "basisset_text_noTMS")
    t0 = time.perf_counter()
    runs = {"default (no priors)": {}, "`nonnegative=False` (`--allow-negative`)": {"nonnegative": False},
            "`priors=\"literature\"` (opt-in)": {"priors": "literature"}}
    acc = {k: accuracy(basis, args.n, seed, **o) for k, o in runs.items()}
    hon = {k: crlb_honesty(basis, args.n, seed + 1, **o) for k, o in runs.items()}
    elapsed = time.perf_counter() - t0
    head = ["| | " + " | ".join(REPORTED) + " |", "|---" * (len(REPORTED) + 1) + "|"]
    blocks = []
    for title, key, fmt in (("Slope of fitted vs true ratio to tCr (issue band 0.9-1.1)", "slope", ".2f"),
                            ("Bias of the cohort mean: mean fitted / mean true ratio to tCr - 1, % (issue band +-1.5 %)", "bias", "+.1f"),
                            ("Mean signed relative error, % (dominated by the spectra with the smallest truth, where "
                             "non-negative estimates cannot err downwards by more than 100 %)", "mean_rel", "+.1f"),
                            ("Mean absolute % error of the ratio to tCr", "mape", ".1f"),
                            ("SD of (fitted - true) / CRLB over the spectra (1 = honest, bias included)", "z_sd", ".2f"),
                            ("Estimates at the non-negativity bound (0), % of spectra", "at_zero", ".1f"),
                            ("Median prior influence (share of precision from the prior)", "influence", ".2f")):
        lines = [f"{title}:", ""] + head
        if key == "bias":   # with its Monte-Carlo standard error
            lines += [f"| {k} | " + " | ".join(f"{acc[k][m]['bias']:+.1f} ± {acc[k][m]['bias_se']:.1f}"
                                               for m in REPORTED) + " |" for k in runs]
        else:
            lines += [_row(k, [acc[k][m][key] for m in REPORTED], fmt) for k in runs]
        blocks.append("\n".join(lines))
    lines = [f"Empirical SD / mean CRLB, one spectrum (normal concentrations, NAA SNR 40), {args.n} noise "
             "realisations (issue band 0.8-1.25):", ""] + head
    lines += [_row(k, [hon[k][m] for m in REPORTED], ".2f") for k in runs]
    blocks.append("\n".join(lines))
    text = "\n\n".join(blocks)
    print(f"seed {seed}, {elapsed:.1f} s\n{text}")
    if args.write:
        write_section("simulated", (
            f"## Fresh simulated spectra: differences preserved, bias, CRLB honesty\n\n"
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()} {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}; command: `python benchmarks/bench_simulated.py --n {args.n} --write` "
            f"(seed {seed}, drawn from the clock: each run is a fresh draw; {elapsed:.0f} s). {args.n} spectra from the "
            f"challenge basis with its measured MM; each concentration = normal value x a factor drawn "
            f"independently, 0.3-1.8 for GABA/GSH/Gln/Tau and 0.6-1.4 for the others; Lorentzian 2-8 Hz + "
            f"Gaussian 0-4 Hz, shift +-4 Hz, random phase, NAA SNR 20-150.\n\n{text}"))


if __name__ == "__main__":
    main()
