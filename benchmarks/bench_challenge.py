"""Accuracy on the ISMRM 2016 fitting challenge (datasets 1-21 vs the published truth).

Usage: python benchmarks/bench_challenge.py [--basis text_noTMS|LCModel|PATH] [--write]
Prints mean absolute % error of ratios to tCr per metabolite; with --write,
the table replaces the ``challenge`` section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from _docs import write_section

import mrsquant as mq
from mrsquant.basis.io import load_basis
from mrsquant.fitting import FitModel

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data"))
CH = DATA / "fitting_challenge_2016"
TRUTH = DATA / "fitting_challenge_2016_truth" / "answers_datasets1-21_mM.csv"

# our name -> truth row
TRUTH_ROWS = {"tNAA": "NAA+NAAG", "tCho": "GPC+PCho", "Glu": "Glu", "Glx": "Glu+Gln", "mI": "Ins",
              "Gln": "Gln", "GABA": "GABA", "GSH": "GSH", "Tau": "Tau", "tCr": "Cr+PCr", "NAA": "NAA",
              "Asp": "Asp", "Lac": "Lac", "sI": "sIns", "PE": "PE"}
PEERS = {
    "LCModel 6.3": {"tNAA": 2.8, "tCho": 6.7, "Glu": 13.5, "Glx": 12.1, "mI": 12.6, "Gln": 33.1, "GABA": 38.0, "GSH": 29.3, "Tau": 23.3},
    "FSL-MRS 2.4.8": {"tNAA": 2.9, "tCho": 6.1, "Glu": 7.9, "Glx": 5.5, "mI": 9.0, "Gln": 22.6, "GABA": 80.7, "GSH": 45.4, "Tau": 39.0},
}
REPORTED = ["tNAA", "tCho", "Glu", "Glx", "mI", "Gln", "GABA", "GSH", "Tau"]


def load_challenge(ids):
    specs = [mq.load(CH / "datasets_text" / f"dataset{i}.txt") for i in ids]
    data = np.stack([s.data for s in specs])
    return specs[0].replace(data=data, dims=("dyn",))


CHALLENGE_QUANT = {"tissue": {"gm": 0.6, "wm": 0.4, "csf": 0.0},
                   "water": {"t2_ms": {"gm": 110.0, "wm": 80.0, "csf": 503.0}},
                   "metabolite": {"t2_ms": 160.0}}


def water_scaled_error(result, ids):
    """Mean absolute % error of water-scaled tCr and tNAA (mM) with the challenge README's parameters."""
    from mrsquant.io.text import water_partner
    from mrsquant.quant import fit_water, load_quant_config, water_scaled

    waters = [water_partner(CH / "datasets_text" / f"dataset{i}.txt") for i in ids]
    w = waters[0].replace(data=np.stack([x.data for x in waters]), dims=("dyn",))
    area = fit_water(w)["area"]
    cfg = load_quant_config(None, **CHALLENGE_QUANT)
    conc, _ = water_scaled(result.amplitude, result.crlb_abs, result.metabolites, area, cfg, te_ms=30, tr_ms=None)
    truth = pd.read_csv(TRUTH, index_col=0)
    out = {}
    for name, row in (("tCr", "Cr+PCr"), ("tNAA", "NAA+NAAG")):
        tr = np.array([truth.loc[row, f"dataset{i}"] for i in ids])
        out[name] = 100 * np.abs(conc[:, result.metabolites.index(name)] / tr - 1)
    return out


def robustness(basis, **options):
    """Datasets 22-28 (artefact, lipids): finite results and a status."""
    from mrsquant.qc.metrics import status_flags

    ids = list(range(22, 29))
    res = FitModel(basis, **options).fit(load_challenge(ids), names=[f"dataset{i}" for i in ids])
    finite = bool(np.all(np.isfinite(res.amplitude)) and np.all(np.isfinite(res.crlb_abs)))
    return finite, dict(zip(res.names, status_flags(res.to_xarray())))


def run(basis_path=None, **options):
    basis = load_basis(basis_path or CH / "basisset_text_noTMS")
    ids = list(range(1, 22))
    spectra = load_challenge(ids)
    model = FitModel(basis, **options)
    t0 = time.perf_counter()
    result = model.fit(spectra, names=[f"dataset{i}" for i in ids])
    elapsed = time.perf_counter() - t0
    truth = pd.read_csv(TRUTH, index_col=0)
    rat = result.ratio("tCr")
    rows = {}
    for name in REPORTED + ["NAA", "Asp", "Lac", "PE", "sI"]:
        if name not in result.metabolites:
            continue
        est = rat[:, result.metabolites.index(name)]
        tr = np.array([truth.loc[TRUTH_ROWS[name], f"dataset{i}"] / truth.loc["Cr+PCr", f"dataset{i}"] for i in ids])
        ok = tr > 0  # datasets without the metabolite have no relative error
        rows[name] = 100 * np.abs(est[ok] / tr[ok] - 1)
    return result, rows, elapsed


def cramer_rao_floor(result, ids=range(1, 22)):
    """Mean absolute % error that an unbiased estimator with this model's Cramer-Rao bounds
    would have: ``sqrt(2/pi) * CRLB / truth`` averaged over the datasets (the ratio's own
    tCr error ignored). An estimator scoring clearly below it must be biased towards the
    truth's typical values (priors, regularisation) rather than more precise."""
    truth = pd.read_csv(TRUTH, index_col=0)
    ids = list(ids)
    tcr = result.amplitude[:, result.metabolites.index("tCr")]
    scale = tcr / np.array([truth.loc["Cr+PCr", f"dataset{i}"] for i in ids])
    out = {}
    for name in REPORTED:
        j = result.metabolites.index(name)
        tr = np.array([truth.loc[TRUTH_ROWS[name], f"dataset{i}"] for i in ids]) * scale
        ok = tr > 0
        out[name] = 100 * np.sqrt(2 / np.pi) * np.mean(result.crlb_abs[ok, j] / tr[ok])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--basis", default=None)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    result, rows, elapsed = run(args.basis)
    print(f"fit of 21 spectra: {elapsed:.2f} s")
    lines = ["| | " + " | ".join(REPORTED) + " |", "|---" * (len(REPORTED) + 1) + "|"]
    for peer, vals in PEERS.items():
        lines.append(f"| {peer} | " + " | ".join(f"{vals[m]:.1f}" for m in REPORTED) + " |")
    lines.append("| **mrsquant** (default: no priors) | " + " | ".join(f"**{np.mean(rows[m]):.1f}**" for m in REPORTED) + " |")
    floor = cramer_rao_floor(result)
    _, rows_p, _ = run(args.basis, priors="literature")
    lines.append("| Cramer-Rao floor of an unbiased estimator (mrsquant's model) | "
                 + " | ".join(f"{floor[m]:.1f}" for m in REPORTED) + " |")
    lines.append("| mrsquant `--priors literature` (opt-in; shrinks differences, see simulated section) | "
                 + " | ".join(f"{np.mean(rows_p[m]):.1f}" for m in REPORTED) + " |")
    table = "\n".join(lines)
    table += "\n\nUnrounded: " + ", ".join(f"{m} {np.mean(rows[m]):.2f}" for m in REPORTED) + "."
    print(table)
    for m, v in rows.items():
        print(f"{m:5s} mean {np.mean(v):6.1f}  median {np.median(v):6.1f}  max {np.max(v):6.1f}")
    mm = water_scaled_error(result, list(range(1, 22)))
    mm_line = ", ".join(f"{k} {np.mean(v):.2f} % (max {np.max(v):.1f} %)" for k, v in mm.items())
    print("water-scaled mM, mean absolute error:", mm_line)
    finite, status = robustness(load_basis(args.basis or CH / "basisset_text_noTMS"))
    status_line = "; ".join(f"{k}: {v}" for k, v in status.items())
    print("datasets 22-28: all finite" if finite else "datasets 22-28: NOT all finite", "|", status_line)
    table += (f"\n\nWater-scaled concentrations (challenge README parameters: GM/WM 0.6/0.4, water T2 110/80 ms, "
              f"metabolite T2 160 ms), mean absolute error vs the true mM: {mm_line}.\n\n"
              f"Datasets 22-28 (no public truth): {'all estimates and CRLBs finite' if finite else 'NOT all finite'}; "
              f"status: {status_line}.")
    if args.write:
        write_section("challenge", (
            f"## Fitting challenge accuracy (datasets 1-21, ratio to tCr, mean absolute % error)\n\n"
            f"{date.today()}, {platform.machine()} {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
            f"command: `python benchmarks/bench_challenge.py --write`; basis: "
            f"{args.basis or 'basisset_text_noTMS'}; 21 spectra fitted in {elapsed:.2f} s.\n\n{table}"))


if __name__ == "__main__":
    main()
