"""Make the shipped example: a simulated depression-treatment cohort (run from the repo root).

    python data/examples/make_example_cohort.py

16 participants x 2 sessions (ses-pre, ses-post), 3T PRESS TE 30 ms (TE1 11, TE2 19),
TR 2000 ms, 1024 points at 2000 Hz, 8 transients each with a random-walk frequency
drift and phase noise, plus an unsuppressed water reference. Spectra are built from
mrsquant's own ideal-pulse PRESS basis with consensus macromolecules, Voigt lines
(4-7 Hz), noise at a single-transient NAA SNR of about 20, and concentrations from
normal brain ranges. Water and metabolites carry the relaxation and tissue factors of
mrsquant's default quantification parameters, so ``conc_mm`` recovers the truth.

Truth: NAA and Glu rise with symptom improvement (HAMD-17): +3 % NAA and +6 % Glu per
10-point HAMD-17 reduction, plus participant noise; written to ``truth.tsv``.
Also writes one LCModel .RAW/.H2O pair (``lcmodel/example.RAW``) for the convert step.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

import mrsquant as mq
from mrsquant import axes
from mrsquant.basis.simulate import simulate_basis
from mrsquant.quant import load_quant_config, water_concentration_mm
from mrsquant.quant.water import metabolite_relaxation

OUT = Path(__file__).resolve().parent
SEED = 20261125
N_SUBJECTS = 16
N_TRANSIENTS = 8
N_POINTS = 1024
BANDWIDTH = 2000.0
F0 = 123.2
TE, TR = 30.0, 2000.0
MEAN_MM = {"NAA": 11.0, "NAAG": 1.4, "Cr": 5.0, "PCr": 4.0, "GPC": 1.1, "PCh": 0.5, "Glu": 9.0,
           "Gln": 3.5, "mI": 6.0, "GABA": 1.5, "GSH": 2.0, "Tau": 1.5, "Asp": 1.8, "Lac": 0.5,
           "sI": 0.3, "PE": 1.3, "Gly": 0.6, "Glc": 1.0, "Asc": 1.0, "Ala": 0.4}
MM_SCALE = 3.0   # consensus MM components (1-proton Gaussians) x this


def main():
    rng = np.random.default_rng(SEED)
    basis = simulate_basis("press", te_ms=TE, te1_ms=11, te2_ms=19, field_mhz=F0, n_points=N_POINTS,
                           bandwidth_hz=BANDWIDTH, macromolecules=True)
    names = list(basis.names)
    cfg = load_quant_config()
    wconc = water_concentration_mm(cfg, TE, TR)
    relax = metabolite_relaxation(cfg, names, TE, TR)
    t = axes.time_axis(N_POINTS, 1 / BANDWIDTH)
    cohort = OUT / "cohort"
    cohort.mkdir(parents=True, exist_ok=True)
    scores, truth = [], []
    hamd0 = rng.normal(24, 3.5, N_SUBJECTS).round()
    improvement = np.clip(rng.normal(11, 6, N_SUBJECTS), -3, 22).round()
    for i in range(N_SUBJECTS):
        sub = f"sub-{i + 1:02d}"
        base = {m: MEAN_MM.get(m, 0.0) * rng.normal(1, 0.08) for m in names}
        for ses, hamd in (("pre", hamd0[i]), ("post", hamd0[i] - improvement[i])):
            conc = dict(base)
            if ses == "post":
                conc["NAA"] = base["NAA"] * (1 + 0.03 * improvement[i] / 10 + rng.normal(0, 0.01))
                conc["Glu"] = base["Glu"] * (1 + 0.06 * improvement[i] / 10 + rng.normal(0, 0.02))
            amps = np.array([conc.get(m, 0.0) if m in MEAN_MM else MM_SCALE * (m.startswith("MM")) for m in names])
            amps = amps * np.where([m in MEAN_MM for m in names], relax, 1.0)
            clean = amps @ basis.fids
            lw, gw = rng.uniform(3, 5), rng.uniform(2, 4)
            shape = np.exp(-np.pi * lw * t - (np.pi * gw * t) ** 2 / (4 * np.log(2)))
            drift = np.cumsum(rng.normal(0, 0.8, N_TRANSIENTS)) + rng.normal(0, 2)
            phase = rng.normal(0, 0.15, N_TRANSIENTS) + rng.uniform(-0.5, 0.5)
            trans = clean[None, :] * shape * np.exp(-2j * np.pi * drift[:, None] * t + 1j * phase[:, None])
            naa_height = np.abs(axes.to_spectrum(clean * shape)).max()
            sd = naa_height / 20.0 / np.sqrt(N_POINTS)
            trans = trans + sd * (rng.standard_normal(trans.shape) + 1j * rng.standard_normal(trans.shape))
            meta = {"Manufacturer": "mrsquant simulation", "SequenceName": "PRESS (simulated)",
                    "ProtocolName": "example cohort", "EchoTime": TE / 1000, "RepetitionTime": TR / 1000}
            s = mq.Spectra(data=trans.astype(np.complex64), dims=("dyn",), dwelltime_s=1 / BANDWIDTH,
                           spectrometer_frequency_mhz=F0, te_ms=TE, tr_ms=TR, meta=meta)
            stem = f"{sub}_ses-{ses}"
            mq.save(s, cohort / f"{stem}_svs.nii.gz")
            water = 2 * wconc * shape * np.exp(-2j * np.pi * drift[0] * t)
            water = water + sd * (rng.standard_normal(N_POINTS) + 1j * rng.standard_normal(N_POINTS))
            mq.save(s.replace(data=water.astype(np.complex64), dims=()), cohort / f"{stem}_ref.nii.gz")
            scores.append({"participant_id": sub, "session_id": ses, "HAMD17": int(hamd), "group": "treatment"})
            truth.append({"spectrum": f"{stem}_svs", **{m: round(conc[m], 4) for m in MEAN_MM}})
            if i == 0 and ses == "pre":
                lc = OUT / "lcmodel"
                lc.mkdir(exist_ok=True)
                avg = s.replace(data=trans.mean(axis=0), dims=())
                mq.save(avg, lc / "example.RAW")
                mq.save(avg.replace(data=water), lc / "example.H2O")
    with open(cohort / "scores.tsv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(scores[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(scores)
    with open(OUT / "truth.tsv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(truth[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(truth)
    print(f"wrote {len(truth)} spectra to {cohort}")


if __name__ == "__main__":
    main()
