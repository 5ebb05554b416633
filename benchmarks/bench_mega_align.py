"""MEGA-PRESS at low SNR per transient: ON/OFF alignment error and GABA+/Cr bias and SD vs truth.

    python benchmarks/bench_mega_align.py [--trials 8] [--pairs 64] [--snrs 5 10 20 40] [--phase-sd 10] [--write]

``--write`` replaces the ``mega-align`` section of docs/benchmarks.md.
Simulation (known truth): the shipped ideal-pulse MEGA bases (data/basis/megapress_te68_gaba_3T_*)
at fixed concentrations, 8 Hz Gaussian lines; ``--pairs`` ON/OFF pairs acquired OFF, ON, OFF, ...
with one random walk of the frequency over all transients (0.4 Hz per TR step) and an independent
phase per transient (SD 10 deg); white noise at a single-transient SNR (NAA height / noise SD of
the real spectrum of one OFF transient); mrsquant.fitting.synthetic_edited.mega_transients. Methods,
through :func:`mrsquant.preproc.preprocess` without ppm referencing and zero-order phasing (the
offset common to both averaged conditions is removed with the truth instead: a frame of the whole
acquisition, the job of those two steps, not an alignment error):

* ``pairs``: one correction per ON/OFF pair from the pair sum (editing.align_pairs), no ON-to-OFF fit;
* ``conditions`` (the default of preprocess): each condition aligned to its own template, then the
  averaged ON aligned to the averaged OFF on the Cho singlet (3.15-3.35 ppm, linear baseline);
* ``pairs + ref/phase``: ``pairs`` with the whole default chain (referencing and zero-order phase
  estimated from the data), nothing removed with the truth: what `mrsquant fit` would report;
* ``oracle``: the same draws without drift, plain averages in the true frame, no processing (the
  noise floor); ``added`` = RMS over draws of (method error - oracle error).

Errors per transient are the estimated minus the true offset, up to the common offset of all
transients; the ON/OFF error is mean(residual ON) - mean(residual OFF), i.e. the frame offset left
between the averaged sub-spectra. CRB: bound for one transient (pair sum for ``pairs``) against a
perfectly known template in the 0.2-4.2 ppm window, amplitude and phase unknown; for the ON/OFF
offset of ``conditions``, two averages each with noise SD/sqrt(pairs) in the Cho window. GABA+/Cr:
the Gannet-style ``gabaglx`` model (fitting/gaussian.py) on the pipeline's DIFF and OFF; truth = the
integral ratio of the noiseless GABA DIFF to the noiseless Cr+PCr OFF (as tests/app/test_gaba_cli.py).
"""
from __future__ import annotations

import argparse
import json
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
from mrsquant.fitting.gaussian import gaba_plus  # noqa: E402
from mrsquant.fitting.synthetic_edited import mega_transients  # noqa: E402
from mrsquant.preproc import preprocess  # noqa: E402
from mrsquant.preproc.align import ALIGN_PPM_RANGE  # noqa: E402
from mrsquant.preproc.editing import SUBSPECTRA_PPM_RANGE  # noqa: E402

BASIS = ROOT / "data" / "basis"
GAUSS_HZ, DRIFT_HZ, PHASE_SD_DEG = 8.0, 0.4, 10.0
FULL = "pairs + ref/phase"
ORDER = ("oracle", "pairs", "conditions", FULL)
#: alignment "works" while its added GABA+/Cr error is <= MARGIN x the noise floor (oracle SD)
MARGIN = 1.25
SNRS = (5, 10, 20, 40)


def signals():
    """The shipped TE 68 MEGA bases, the noiseless sub-spectra and the GABA+/Cr truth."""
    subs = {k: mq.load_basis(BASIS / f"megapress_te68_gaba_3T_{k}") for k in ("off", "on")}
    s, truth = mega_transients(subs, 1, gauss_hz=GAUSS_HZ)
    return {"subs": subs, "off": truth["off"], "on": truth["on"], "height": truth["height"], "ppm": s.ppm,
            "t": axes.time_axis(s.n_points, s.dwelltime_s), "truth": truth["gaba_cr"], "n": s.n_points}


def crb_shift(clean, sigma, ppm, window, t):
    """CRB (Hz, deg) of shift and phase of ``clean`` + complex white noise (SD ``sigma`` per
    component, time domain) against a known template, fit in ``window`` (ppm)."""
    n = clean.size
    mask = axes.ppm_window(ppm, window)
    jac = np.stack([clean, 2j * np.pi * t * clean, 1j * clean])
    jac = axes.to_spectrum(jac)[:, mask] / np.sqrt(n)
    cov = np.linalg.inv((jac.conj() @ jac.T).real / sigma ** 2)
    return float(np.sqrt(cov[1, 1])), float(np.rad2deg(np.sqrt(cov[2, 2])))


def trial(sig, snr, pairs, seed, method, phase_sd=PHASE_SD_DEG):
    drift = {} if method != "oracle" else {"drift_hz_per_tr": 0.0, "phase_sd_deg": 0.0}
    s, truth = mega_transients(sig["subs"], pairs, seed=seed, snr_per_transient=snr, gauss_hz=GAUSS_HZ,
                               **{"drift_hz_per_tr": DRIFT_HZ, "phase_sd_deg": phase_sd, **drift})
    res = {}
    if method == "oracle":      # no drift, no processing: the plain averages in the true frame
        avg = s.data.mean(axis=0)
        g = gaba_plus(sig["ppm"], axes.to_spectrum(avg[1] - avg[0]), axes.to_spectrum(avg[0]), model="gabaglx")
        return {"gaba_cr": float(np.ravel(g["gaba_cr"])[0])}
    full = method == FULL
    align = "pairs" if full else method
    # the alignment alone: no ppm referencing / zero-order phasing (their frame is removed with the
    # truth below); FULL: the default chain as `mrsquant fit` runs it, nothing removed
    out, rec = preprocess(s, edit_order=(0, 1), edit_align=align, reference=full, phase=full)
    f_true, p_true = truth["freq_shift_hz"], truth["phase_deg"]
    tab = rec.transients.sort_values(["dyn", "edit"])
    ef = f_true.ravel() - tab["freq_shift_hz"].to_numpy()
    ep = (p_true.ravel() - tab["phase_deg"].to_numpy() + 180) % 360 - 180
    ef, ep = ef.reshape(pairs, 2), ep.reshape(pairs, 2)
    diff, off = rec.edited["diff"].data, out.isel(edit=0).data
    if not full:
        # offset common to both averaged conditions (weighted as averaged): a frame of the whole
        # acquisition, not an alignment error; the ON/OFF difference stays in the DIFF
        w = np.where(tab["rejected"].to_numpy(), 0.0, tab["weight"].to_numpy()).reshape(pairs, 2)
        w = w / np.maximum(w.sum(axis=0), 1e-300)
        mf, mp = np.mean((w * ef).sum(axis=0)), np.mean((w * ep).sum(axis=0))
        undo = np.exp(-1j * (2 * np.pi * mf * sig["t"] + np.deg2rad(mp)))
        diff, off = diff * undo, off * undo
    res["f_sd"] = float(np.std(ef - ef.mean()))
    res["p_sd"] = float(np.std(ep - ep.mean()))
    res["onoff_f"] = float(ef[:, 1].mean() - ef[:, 0].mean())
    res["onoff_p"] = float(ep[:, 1].mean() - ep[:, 0].mean())
    g = gaba_plus(sig["ppm"], axes.to_spectrum(diff), axes.to_spectrum(off), model="gabaglx")
    res["gaba_cr"] = float(np.ravel(g["gaba_cr"])[0])
    return res


def detection(sig, snr, pairs, seeds):
    """How often the automatic ON/OFF call is right (random order per draw, no drift)."""
    right = confident = 0
    for seed in range(seeds):
        on_first = bool(np.random.default_rng(1000 + seed).integers(2))
        s, _ = mega_transients(sig["subs"], pairs, seed=1000 + seed, snr_per_transient=snr, gauss_hz=GAUSS_HZ,
                               drift_hz_per_tr=0.0)
        avg = s.mean("dyn")
        det = mq.preproc.detect_edit_order(avg.with_data(avg.data[::-1]) if on_first else avg)
        right += det["on_index"] == (0 if on_first else 1)
        confident += det["confident"]
    return right, confident


def _save(path, row):
    if path is not None:
        with open(path, "a") as fh:
            fh.write(json.dumps({k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in row.items()},
                                default=float) + "\n")


def _oracle(rows, r):
    return next(o for o in rows if o["method"] == "oracle" and o["snr"] == r["snr"])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--pairs", type=int, default=64)
    ap.add_argument("--snrs", type=float, nargs="+", default=SNRS)
    ap.add_argument("--phase-sd", type=float, default=PHASE_SD_DEG, help="per-transient phase SD (deg)")
    ap.add_argument("--save", type=Path, help="append each row to this JSON-lines file")
    ap.add_argument("--merge", type=Path, nargs="+", help="no run: the table of rows saved by --save runs")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.time()
    sig = signals()
    cmd = " ".join(["python benchmarks/bench_mega_align.py"] + list(sys.argv[1:] if argv is None else argv))
    rows = [] if not a.merge else [json.loads(ln) for f in a.merge for ln in f.read_text().splitlines() if ln]
    runs = [r for r in rows if r["method"] == "_run"]
    rows = sorted((r for r in rows if r["method"] != "_run"), key=lambda r: (r["snr"], ORDER.index(r["method"])))
    for snr in [] if a.merge else a.snrs:
        sigma = sig["height"] / snr / np.sqrt(sig["n"])
        crb1 = crb_shift(sig["off"], sigma, sig["ppm"], ALIGN_PPM_RANGE, sig["t"])
        crb2 = crb_shift(sig["off"] + sig["on"], np.sqrt(2) * sigma, sig["ppm"], ALIGN_PPM_RANGE, sig["t"])
        crb_sub = crb_shift(sig["off"], sigma / np.sqrt(a.pairs), sig["ppm"], SUBSPECTRA_PPM_RANGE, sig["t"])
        crb_sub = (np.sqrt(2) * crb_sub[0], np.sqrt(2) * crb_sub[1])
        right, conf = detection(sig, snr, a.pairs, 20)
        g_oracle = None
        for method in ORDER:
            rs = [trial(sig, snr, a.pairs, seed, method, a.phase_sd) for seed in range(a.trials)]
            g = np.array([r["gaba_cr"] for r in rs]) / sig["truth"] - 1
            q1, med, q3 = 100 * np.percentile(g, [25, 50, 75])
            row = {"snr": snr, "method": method, "bias": 100 * g.mean(), "sd": 100 * g.std(ddof=1),
                   "median": med, "iqr": q3 - q1, "detect": f"{right}/20 ({conf} confident)"}
            if method == "oracle":
                g_oracle = g
            else:
                # what the alignment adds: the same draws (noise) without drift and processing
                row.update(added=100 * np.sqrt(np.mean((g - g_oracle) ** 2)),
                           f_sd=np.sqrt(np.mean([r["f_sd"] ** 2 for r in rs])),
                           p_sd=np.sqrt(np.mean([r["p_sd"] ** 2 for r in rs])),
                           onoff_f=np.sqrt(np.mean([r["onoff_f"] ** 2 for r in rs])),
                           onoff_p=np.sqrt(np.mean([r["onoff_p"] ** 2 for r in rs])),
                           crb=crb1 if method == "conditions" else crb2,
                           crb_onoff=crb_sub if method == "conditions" else None)
            rows.append(row)
            print(row, flush=True)
            _save(a.save, row)
    secs = time.time() - t0
    if not a.merge:
        runs = [{"method": "_run", "cmd": cmd, "secs": secs}]
        _save(a.save, runs[0])
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    bound = {}
    for method in ("pairs", "conditions"):
        ok = sorted(r["snr"] for r in rows if r["method"] == method and r["added"] <= MARGIN * _oracle(rows, r)["sd"])
        fails = [r["snr"] for r in rows if r["method"] == method and r["snr"] not in ok]
        bound[method] = min((x for x in ok if all(f < x for f in fails)), default=None)
    lines = [
        "## MEGA-PRESS ON/OFF alignment at low SNR per transient",
        "",
        f"{now}, {platform.node()} ({platform.machine()}, Python {platform.python_version()}, 2 cores); "
        "command" + ("s" if len(runs) > 1 else "") + " " + "; ".join(f"`{r['cmd']}` ({r['secs']:.0f} s)" for r in runs)
        + (f"; table: `{cmd}`" if a.merge else "") + ".",
        "",
        f"Shipped TE 68 ms ideal-pulse MEGA bases, simulated by mrsquant.fitting.synthetic_edited.mega_transients: "
        f"{a.pairs} ON/OFF pairs, random-walk drift {DRIFT_HZ} Hz per TR, phase SD {a.phase_sd:g} deg per "
        f"transient, {GAUSS_HZ:g} Hz Gaussian lines, {a.trials} draws per row (seeds 0-{a.trials - 1}); GABA+/Cr "
        f"by the gabaglx model vs the truth {sig['truth']:.4f}. 'oracle': the same draws without drift, plain "
        "averages in the true frame (no processing: the noise floor). 'added': RMS over the draws of "
        "(method error - oracle error), what the alignment adds to the noise. Per-transient RMS error vs its "
        "CRB (one transient for 'conditions', one pair sum for 'pairs'); ON/OFF = RMS frame offset left between "
        "the averaged sub-spectra ('pairs' fits none: what is left is the within-pair drift and phase). The last "
        "column: automatic ON/OFF call right in 20 draws with a random order (no drift).",
        "",
        "| SNR/transient | method | shift RMS (Hz) | CRB shift (Hz) | phase RMS (deg) | CRB phase (deg) | "
        "ON/OFF shift (Hz) | ON/OFF phase (deg) | CRB ON/OFF shift (Hz) | GABA+/Cr error median (%) | IQR (%) | "
        "bias (%) | SD (%) | added (%) | order call |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["method"] == "oracle":
            cells = ["-"] * 7
        else:
            co = "-" if r["crb_onoff"] is None else f"{r['crb_onoff'][0]:.3f}"
            cells = [f"{r['f_sd']:.3f}", f"{r['crb'][0]:.3f}", f"{r['p_sd']:.2f}", f"{r['crb'][1]:.2f}",
                     f"{r['onoff_f']:.3f}", f"{r['onoff_p']:.2f}", co]
        added = "-" if r["method"] == "oracle" else f"{r['added']:.1f}"
        lines.append(f"| {r['snr']:g} | {r['method']} | " + " | ".join(cells)
                     + f" | {r['median']:+.1f} | {r['iqr']:.1f} | {r['bias']:+.1f} | {r['sd']:.1f} | {added} | "
                     + f"{r['detect'] if r['method'] == 'pairs' else ''} |")
    lines += ["", "Bound (lowest SNR per transient of the grid from which up the alignment adds no more GABA+/Cr "
              f"error than the noise floor, 'added' <= {MARGIN:g} x oracle SD; the margin is the sampling "
              f"uncertainty of an SD from {a.trials} draws, about 1/sqrt(2 (n - 1))): "
              + "; ".join(f"{m} {'none in the grid' if b is None else f'{b:g}'}" for m, b in bound.items()) + "."]
    text = "\n".join(lines)
    print(text)
    if a.write:
        write_section("mega-align", text)


if __name__ == "__main__":
    main()
