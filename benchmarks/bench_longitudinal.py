"""Error rates of the longitudinal statistics on simulated cohorts with known truth.

Usage: python benchmarks/bench_longitudinal.py [--replicates 5000] [--write]

Coverage of the 95 % CI of the mean change (paired t) and of the correlation
(BCa bootstrap, expanded and textbook; Fisher z for reference), false-positive
rates at alpha 0.05 under the null (paired t, Wilcoxon, Pearson, Spearman,
mixed-model time effect), FDR of Benjamini-Hochberg across 10 metabolites, and
the wall time of a whole ``run_longitudinal`` on a 16 x 2 cohort. With
``--write`` the tables replace the longitudinal section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from _docs import write_section

from mrsquant.app.longitudinal import run_longitudinal
from mrsquant.longitudinal import make_cohort
from mrsquant.longitudinal import stats as st
from mrsquant.longitudinal.synthetic import simulate_changes, simulate_visits

ROOT = Path(__file__).resolve().parents[1]


def coverage(R, ns, rhos):
    rows = []
    for n in ns:
        for rho in rhos:
            sim = simulate_changes(R, n, mean_change=0.05, sd_change=0.08, rho=rho, seed=100 + n)
            d = sim["followup"] - sim["baseline"]
            out = st.paired_summary(d)
            cov_mean = np.mean((out["ci_low"] <= 0.05) & (0.05 <= out["ci_high"]))
            lo, hi = st.bootstrap_corr_ci(d, sim["score_delta"], n_boot=2000, seed=1)
            plo, phi = st.bootstrap_corr_ci(d, sim["score_delta"], n_boot=2000, seed=1,
                                            expanded=False)
            r, _ = st.pearson(d, sim["score_delta"])
            z, s = np.arctanh(r), 1.96 / np.sqrt(n - 3)
            rows.append({"n": n, "rho": rho, "mean change (t CI)": cov_mean,
                         "r: BCa expanded (ours)": np.mean((lo <= rho) & (rho <= hi)),
                         "r: BCa textbook": np.mean((plo <= rho) & (rho <= phi)),
                         "r: Fisher z": np.mean((np.tanh(z - s) <= rho) & (rho <= np.tanh(z + s)))})
    return pd.DataFrame(rows)


def null_rates(R, n):
    sim = simulate_changes(R, n, mean_change=0.0, sd_change=0.08, rho=0.0, n_measures=10, seed=7)
    d = sim["followup"] - sim["baseline"]
    score = np.broadcast_to(sim["score_delta"][:, None, :], d.shape)
    p_t = st.paired_summary(d)["p"]
    rates = {"paired t": np.mean(p_t < 0.05), "Wilcoxon": np.mean(st.wilcoxon_p(d) < 0.05),
             "Pearson": np.mean(st.pearson(d, score)[1] < 0.05),
             "Spearman": np.mean(st.spearman(d, score)[1] < 0.05)}
    q = st.adjust_pvalues(p_t)
    fdr_null = np.mean((q < 0.05).any(axis=1))
    fwer_raw = np.mean((p_t < 0.05).any(axis=1))
    alt = simulate_changes(R, n, mean_change=0.06, sd_change=0.08, n_measures=5, seed=8)
    dd = np.concatenate([d[:, :5], alt["followup"] - alt["baseline"]], axis=1)
    rej = st.adjust_pvalues(st.paired_summary(dd)["p"]) < 0.05
    fdp = np.where(rej.any(axis=1), rej[:, :5].sum(1) / np.maximum(rej.sum(1), 1), 0.0)
    return rates, fdr_null, fwer_raw, fdp.mean(), rej[:, 5:].mean()


def mixed_null(R, n, sessions):
    """False-positive rate of the mixed model's time effect (random intercept, no change)."""
    import statsmodels.formula.api as smf
    from scipy import stats

    from mrsquant.longitudinal.stats import between_within_df

    rng = np.random.default_rng(9)
    hits, hits_t, fails = 0, 0, 0
    S = len(sessions)
    for _ in range(R):
        base = 1.35 + 0.1 * rng.standard_normal(n)
        y = base[:, None] + 0.05 * rng.standard_normal((n, S))
        keep = rng.random((n, S)) > 0.1          # 10 % of visits missing
        keep[:, 0] = True
        pid, tt = np.nonzero(keep)
        df = pd.DataFrame({"value": y[pid, tt], "time": tt.astype(float), "pid": pid})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = smf.mixedlm("value ~ time", df, groups=df["pid"])
                res = model.fit(reml=True)
                hits += res.pvalues["time"] < 0.05
                dft = dict(zip(model.exog_names, between_within_df(model.exog, model.groups)))["time"]
                hits_t += 2 * stats.t.sf(abs(res.tvalues["time"]), dft) < 0.05
            except Exception:  # noqa: BLE001 - count, do not stop
                fails += 1
    ok = max(R - fails, 1)
    return hits / ok, hits_t / ok, fails


def mixed_slopes_null(R, n, n_visits, *, slope_sd=0.03, seed=0):
    """Type-I error of the time effect with heterogeneous participant slopes.

    ``R`` studies of ``n`` participants from ``simulate_visits`` (no mean change, slope SD
    ``slope_sd`` per visit, residual SD 0.04, 10 % of follow-up visits missing), each
    analysed by ``mixed_models_long``, the function ``mrsquant longitudinal`` runs: random
    slopes with >= 3 visit times, GEE sandwich fallback when MixedLM does not converge. The
    intercept-only model on the same studies is the contrast.
    """
    from collections import Counter

    from mrsquant.longitudinal.analysis import mixed_models_long

    sim = simulate_visits(R, n, n_visits, slope_sd=slope_sd, noise_sd=0.04,
                          missing_fraction=0.1, seed=seed)
    p_auto, p_ri, models, reasons = [], [], Counter(), Counter()
    t0 = time.process_time()
    for r in range(R):
        v = sim["value"][r]
        pid, tt = np.nonzero(np.isfinite(v))
        df = pd.DataFrame({"participant_id": pid.astype(str), "session_id": tt.astype(str),
                           "measure": "X/tCr", "time": sim["time"][tt], "value": v[pid, tt]})
        out = mixed_models_long(df, group=None)
        row = out[out["term"] == "time"].iloc[0]
        p_auto.append(row["p"])
        models[row["model"]] += 1
        if "fallback" in str(row["note"]):
            reasons[str(row["note"]).split(": GEE")[0]
                    .removeprefix("random slopes did not converge (").removesuffix(")")] += 1
        ri = mixed_models_long(df, group=None, random_slopes=False)
        p_ri.append(ri.loc[ri["term"] == "time", "p"].iloc[0])
    cpu = time.process_time() - t0
    p_auto, p_ri = np.asarray(p_auto), np.asarray(p_ri)
    rate, rate_ri = np.mean(p_auto < 0.05), np.mean(p_ri < 0.05)
    return {"visits": n_visits, "rate": rate, "se": np.sqrt(rate * (1 - rate) / R),
            "rate_ri": rate_ri, "se_ri": np.sqrt(rate_ri * (1 - rate_ri) / R),
            "models": dict(models), "reasons": dict(reasons), "cpu_s": cpu,
            "missing": float(np.mean(~np.isfinite(sim["value"][:, :, 1:])))}


def timing():
    c = make_cohort(16, seed=1)
    t0 = time.perf_counter()
    run_longitudinal((c.concentrations, c.qc), c.scores)
    t1 = time.perf_counter()
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        t2 = time.perf_counter()
        run_longitudinal((c.concentrations, c.qc), c.scores, outdir=tmp)
        t3 = time.perf_counter()
    return t1 - t0, t3 - t2


def _markdown(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
            for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=5000)
    ap.add_argument("--mixed-replicates", type=int, default=1000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    R = args.replicates
    t0 = time.perf_counter()
    c0 = time.process_time()
    cov = coverage(R, (12, 16, 20, 30, 50), (0.0, -0.5))
    rates, fdr_null, fwer_raw, fdr_mixed, power = null_rates(R, 20)
    mx2, mt2, f2 = mixed_null(args.mixed_replicates, 20, ("pre", "post"))
    slopes = [mixed_slopes_null(args.mixed_replicates, 20, S, seed=S) for S in (3, 4)]
    t_tables, t_all = timing()
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    se = np.sqrt(0.05 * 0.95 / R)
    lines = [
        "## Longitudinal statistics: coverage and error rates",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()}); "
        f"command `python benchmarks/bench_longitudinal.py --replicates {R} "
        f"--mixed-replicates {args.mixed_replicates} --write` "
        f"({elapsed:.0f} s wall, {cpu:.0f} s CPU, load average {load:.1f} at the end). Simulated paired studies with normal changes "
        "(`mrsquant.longitudinal.synthetic.simulate_changes`); Monte-Carlo SE of a 95 % "
        f"coverage = {100 * np.sqrt(0.95 * 0.05 / R):.2f} %, of a 5 % rate = {100 * se:.2f} %.",
        "",
        "Coverage of 95 % CIs (fraction of replicates whose CI holds the truth); the issue asks "
        "93-97 %:",
        "",
        _markdown(cov),
        "",
        f"False-positive rate at alpha 0.05 under the null (n = 20, {R} studies x 10 "
        "metabolites = "
        f"{10 * R} tests each; issue band 3.5-6.5 %):",
        "",
        "| test | rate |", "|---|---|",
        *[f"| {k} | {v:.4f} |" for k, v in rates.items()],
        f"| mixed model time effect, 2 sessions, 10 % visits missing ({args.mixed_replicates} "
        f"studies): t with between-within df (mrsquant) | {mt2:.4f} |",
        f"| same, MixedLM's normal (z) reference | {mx2:.4f} |",
        "",
        "Mixed-model time effect with **heterogeneous participant slopes** (issue 18): "
        f"{args.mixed_replicates} simulated studies per design "
        "(`simulate_visits`: 20 participants, baseline 1.5, between-participant intercept SD "
        "0.1, slope SD 0.03 per visit, residual SD 0.04, no mean change, each follow-up visit "
        "missing with probability 0.1), each analysed by `mixed_models_long`, the function "
        "`mrsquant longitudinal` runs (random intercept + slope of time with >= 3 visits, "
        "t on n_participants - 1 df for the time effect; GEE with the bias-reduced sandwich SE when MixedLM does "
        "not converge). The intercept-only model on the same studies shows the inflation "
        "random slopes remove. Target 3.5-6.5 %; +/- is the Monte-Carlo SE.",
        "",
        "| visits | follow-up visits missing | time-effect type-I error (default: random slopes) "
        "| intercept-only model | GEE fallbacks (reason) | CPU s |",
        "|---|---|---|---|---|---|",
        *[f"| {d['visits']} | {100 * d['missing']:.1f} % | {100 * d['rate']:.1f} +/- "
          f"{100 * d['se']:.1f} % | {100 * d['rate_ri']:.1f} +/- {100 * d['se_ri']:.1f} % | "
          f"{d['models'].get('GEE exchangeable, bias-reduced sandwich SE', 0)}"
          f"{' (' + '; '.join(f'{k}: {v}' for k, v in d['reasons'].items()) + ')' if d['reasons'] else ''}"
          f" | {d['cpu_s']:.0f} |" for d in slopes],
        "",
        "Benjamini-Hochberg across 10 metabolites (n = 20): "
        f"complete null, P(any q < 0.05) = FDR = {fdr_null:.4f} (uncorrected familywise "
        f"error {fwer_raw:.3f}); 5 null + 5 true effects (0.75 SD), FDR = {fdr_mixed:.4f} "
        f"(bound 0.05 x 5/10 = 0.025), power {power:.3f}.",
        "",
        "The textbook BCa interval of r under-covers at small n (narrowness bias of the "
        "bootstrap); mrsquant widens its nominal levels by sqrt(n/(n-1)) t_{n-1} "
        "(Hesterberg 2015's expanded-percentile correction applied to BCa). "
        "MixedLM's Wald z-test is slightly liberal at n = 20; mrsquant compares the Wald "
        "statistic with t on between-within degrees of freedom (Schluchter & Elashoff 1990), "
        "which equals the paired t-test for two complete visits.",
        "",
        f"Wall time of `run_longitudinal` on a 16 x 2 cohort, 8 ratios, 2 scales, 2000 bootstrap "
        f"resamples: {t_tables:.2f} s for the tables, {t_all:.2f} s including TSV/NetCDF/PDF output.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("longitudinal", text)
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
