"""GABA+/Cr of the Gannet-style peak models under a residual zero-order phase: bias, SD, coverage.

    python benchmarks/bench_gaba_phase.py [--draws 30] [--pipeline-draws 8] [--write]

``--write`` replaces the ``gaba-phase`` section of docs/benchmarks.md.
Simulation (known truth): the shipped ideal-pulse MEGA bases (data/basis/megapress_te68_gaba_3T_*)
at fixed concentrations, 8 Hz Gaussian lines, mrsquant.fitting.synthetic_edited.mega_transients;
truth GABA+/Cr = integral ratio of the noiseless GABA DIFF to the noiseless Cr+PCr OFF
(mega_gaba_cr). Two parts:

* ``fit``: 64 ON/OFF pairs without drift, plain averages in the true frame, the DIFF and OFF both
  rotated by an imposed residual phase (-15..+15 deg): what the GABA+ fit sees when the pipeline
  leaves that phase; SNR per transient 10, 20, 40 (NAA height / noise SD of one OFF transient);
* ``pipeline``: 64 pairs with drift (0.4 Hz per TR random walk, 10 deg phase SD per transient)
  through the default preprocessing as `mrsquant fit --gaba-model` runs it
  (mrsquant.app.gaba.edited_spectra); the residual phase is whatever the pipeline leaves (its
  value against the truth: angle of the pipeline OFF projected on the noiseless OFF, 1.8-4.2 ppm).

Phase handling (mrsquant.fitting.gaussian.gaba_plus ``phase=``): ``none`` real parts as given
(before this change), ``shared`` zero-order phase fitted with Cr/Cho on the OFF and applied to
the DIFF (the default), ``own`` the DIFF fit with its own phase term. Bias and SD in % of the
truth; cover = fraction of draws with |error| < 1.96 SE (nominal 95 %).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _docs import write_section  # noqa: E402

import mrsquant as mq  # noqa: E402
from mrsquant import axes  # noqa: E402
from mrsquant.app.gaba import edited_spectra  # noqa: E402
from mrsquant.fitting.gaussian import gaba_plus  # noqa: E402
from mrsquant.fitting.synthetic_edited import mega_transients  # noqa: E402

BASIS = ROOT / "data" / "basis"
GAUSS_HZ, DRIFT_HZ, PHASE_SD_DEG, PAIRS = 8.0, 0.4, 10.0, 64
MODES = ("none", "shared", "own")
PHASES = (-15.0, -10.0, -5.0, 0.0, 5.0, 10.0, 15.0)
SNRS = (10.0, 20.0, 40.0)


def _stats(est, se, truth):
    err = np.asarray(est) - truth
    return {"bias": 100 * float(np.mean(err)) / truth, "sd": 100 * float(np.std(est, ddof=1)) / truth,
            "se": 100 * float(np.mean(se)) / truth, "cover": float(np.mean(np.abs(err) < 1.96 * np.asarray(se)))}


def fit_part(subs, model, draws):
    rows = []
    for snr in SNRS:
        avgs = []
        for d in range(draws):
            s, truth = mega_transients(subs, PAIRS, seed=d, snr_per_transient=snr, gauss_hz=GAUSS_HZ,
                                       drift_hz_per_tr=0.0, phase_sd_deg=0.0)
            avg = s.data.mean(axis=0)
            avgs.append((axes.to_spectrum(avg[1] - avg[0]), axes.to_spectrum(avg[0])))
        ppm, tr = s.ppm, truth["gaba_cr"]
        for ph in PHASES:
            rot = np.exp(1j * np.deg2rad(ph))
            for mode in MODES:
                outs = [gaba_plus(ppm, rot * dif, rot * off, model=model, phase=mode) for dif, off in avgs]
                est = [float(o["gaba_cr"][0]) for o in outs]
                se = [float(o["gaba_cr_se"][0]) for o in outs]
                phs = np.array([float(o["phase_deg"][0]) for o in outs]) - ph
                rows.append({"snr": snr, "phase": ph, "mode": mode, **_stats(est, se, tr),
                             "phase_err": float(np.mean(phs)), "phase_sd": float(np.std(phs, ddof=1))})
    return rows, tr


def pipeline_part(subs, model, draws, snrs=(20.0, 40.0)):
    rows = []
    for snr in snrs:
        res = {m: ([], []) for m in MODES}
        resid, fitted = [], []
        for d in range(draws):
            s, truth = mega_transients(subs, PAIRS, seed=100 + d, snr_per_transient=snr, gauss_hz=GAUSS_HZ,
                                       drift_hz_per_tr=DRIFT_HZ, phase_sd_deg=PHASE_SD_DEG)
            ppm, dif, off, _, _ = edited_spectra(s)
            ref = axes.to_spectrum(truth["off"])
            win = axes.ppm_window(ppm, (1.8, 4.2))
            resid.append(float(np.rad2deg(np.angle(np.vdot(ref[win], off[win])))))
            for mode in MODES:
                o = gaba_plus(ppm, dif, off, model=model, phase=mode)
                res[mode][0].append(float(o["gaba_cr"][0]))
                res[mode][1].append(float(o["gaba_cr_se"][0]))
                if mode == "shared":
                    fitted.append(float(o["phase_deg"][0]))
        for mode in MODES:
            rows.append({"snr": snr, "mode": mode, **_stats(*res[mode], truth["gaba_cr"]),
                         "resid": float(np.mean(resid)), "resid_sd": float(np.std(resid, ddof=1)),
                         "fitted_minus_resid": float(np.mean(np.array(fitted) - np.array(resid)))})
    return rows


def render(model, fit_rows, pipe_rows, truth, cmd, cpu_s, draws, pdraws):
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["## GABA+ peak models under a residual zero-order phase (issue 16)", "",
             f"{now}, {platform.machine()} {len(__import__('os').sched_getaffinity(0))} cores shared, "
             f"Python {platform.python_version()}; command: `{cmd}` ({cpu_s:.0f} s). Model `{model}`, truth "
             f"GABA+/Cr {truth:.4f} (raw area ratio, GABA-only DIFF over Cr+PCr OFF, 2.6-3.45 ppm); generator and "
             "methods in the script's docstring. 'none' = real parts as given (before), 'shared' = phase "
             "fitted with Cr/Cho on the OFF and applied to the DIFF (default), 'own' = the DIFF's own phase "
             "term. Bias, SD, mean SE in % of the truth; cover = share of draws with |error| < 1.96 SE.", "",
             f"Fit level ({draws} draws per row, 64 pairs, no drift, imposed phase on DIFF and OFF; "
             "Cr phase error = fitted minus imposed, mean +- SD):", "",
             "| SNR/transient | imposed (deg) | none bias / SD / cover | shared bias / SD / SE / cover | "
             "own bias / SD / SE / cover | Cr phase error (deg) |", "|---|---|---|---|---|---|"]
    by = {(r["snr"], r["phase"], r["mode"]): r for r in fit_rows}
    for snr in SNRS:
        for ph in PHASES:
            n, s, o = (by[(snr, ph, m)] for m in MODES)
            lines.append(f"| {snr:g} | {ph:+g} | {n['bias']:+.1f} / {n['sd']:.1f} / {100 * n['cover']:.0f} % | "
                         f"{s['bias']:+.1f} / {s['sd']:.1f} / {s['se']:.1f} / {100 * s['cover']:.0f} % | "
                         f"{o['bias']:+.1f} / {o['sd']:.1f} / {o['se']:.1f} / {100 * o['cover']:.0f} % | "
                         f"{s['phase_err']:+.2f} +- {s['phase_sd']:.2f} |")
    lines += ["", "Over the whole fit-level grid (all SNRs and phases):", ""]
    for m in MODES:
        rs = [r for r in fit_rows if r["mode"] == m]
        worst = max(abs(r["bias"]) for r in rs)
        lines.append(f"- `{m}`: |bias| max {worst:.1f} %, bias range {min(r['bias'] for r in rs):+.1f} to "
                     f"{max(r['bias'] for r in rs):+.1f} %, coverage {100 * min(r['cover'] for r in rs):.0f}-"
                     f"{100 * max(r['cover'] for r in rs):.0f} %")
    lines += ["", f"Pipeline level ({pdraws} draws per row, 64 pairs, drift 0.4 Hz per TR, phase SD 10 deg per "
              "transient, default preprocessing as `mrsquant fit --gaba-model`; residual = phase the pipeline "
              "leaves on the OFF against the truth, mean +- SD; fitted - residual = the Cr fit's phase minus it):",
              "", "| SNR/transient | method | bias (%) | SD (%) | mean SE (%) | cover | pipeline residual (deg) | "
              "fitted - residual (deg) |", "|---|---|---|---|---|---|---|---|"]
    for r in pipe_rows:
        lines.append(f"| {r['snr']:g} | {r['mode']} | {r['bias']:+.1f} | {r['sd']:.1f} | {r['se']:.1f} | "
                     f"{100 * r['cover']:.0f} % | {r['resid']:+.1f} +- {r['resid_sd']:.1f} | "
                     f"{r['fitted_minus_resid']:+.1f} |")
    lines += ["", "Reading: at the fit level 'shared' and 'own' make GABA+/Cr independent of the imposed phase "
              "(the rows of one SNR are the same draws rotated, and the phase fit follows the rotation exactly), "
              "where 'none' moves by about 1.6 % per degree. The SE is conservative at SNR >= 20 (it carries the "
              "lineshape misfit) and slightly short at SNR 10. At the pipeline level the Cr fit finds the residual "
              "the phase step leaves to about 1 deg; the GABA+/Cr spread there is the default ('conditions') "
              "alignment's, unreliable below SNR 40 per transient (docs/benchmarks.md mega-align section), and "
              "with 8 draws a mean is known to about SD/2.8."]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=30)
    ap.add_argument("--pipeline-draws", type=int, default=8)
    ap.add_argument("--model", default="gabaglx", choices=("gaba", "gabaglx"))
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.process_time()
    cmd = " ".join(["python benchmarks/bench_gaba_phase.py"] + list(sys.argv[1:] if argv is None else argv))
    subs = {k: mq.load_basis(BASIS / f"megapress_te68_gaba_3T_{k}") for k in ("off", "on")}
    fit_rows, truth = fit_part(subs, a.model, a.draws)
    pipe_rows = pipeline_part(subs, a.model, a.pipeline_draws) if a.pipeline_draws else []
    text = render(a.model, fit_rows, pipe_rows, truth, cmd, time.process_time() - t0, a.draws, a.pipeline_draws)
    print(text)
    if a.write:
        write_section("gaba-phase", text)


if __name__ == "__main__":
    main()
