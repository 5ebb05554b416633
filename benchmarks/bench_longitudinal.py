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
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from mrsquant.longitudinal import make_cohort
from mrsquant.app.longitudinal import run_longitudinal
from mrsquant.longitudinal import stats as st
from mrsquant.longitudinal.synthetic import simulate_changes

from _docs import write_section

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
    cov = coverage(R, (12, 16, 20, 30, 50), (0.0, -0.5))
    rates, fdr_null, fwer_raw, fdr_mixed, power = null_rates(R, 20)
    mx2, mt2, f2 = mixed_null(args.mixed_replicates, 20, ("pre", "post"))
    mx3, mt3, f3 = mixed_null(args.mixed_replicates, 20, ("w0", "w4", "w8"))
    t_tables, t_all = timing()
    elapsed = time.perf_counter() - t0
    se = np.sqrt(0.05 * 0.95 / R)
    lines = [
        "## Longitudinal statistics: coverage and error rates",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()}); "
        f"command `python benchmarks/bench_longitudinal.py --replicates {R} --write` "
        f"({elapsed:.0f} s). Simulated paired studies with normal changes "
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
        f"| mixed model time effect, 3 sessions, 10 % visits missing ({args.mixed_replicates} "
        f"studies): t with between-within df (mrsquant) | {mt3:.4f} |",
        f"| same, MixedLM's normal (z) reference | {mx3:.4f} |",
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
