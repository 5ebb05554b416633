"""ComBat harmonisation: a site offset is removed, a true treatment-by-time effect kept."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("neuroCombat", reason="optional extra 'clinical' (neuroCombat) not installed")

from mrsquant.longitudinal.harmonise import combat_harmonise  # noqa: E402


def _study(rng, n=90, effect=0.06):
    """3 sites (additive offsets 0, +0.15, -0.10 and scale 1, 1.5, 0.8), 6 measures, 2 visits,
    treatment arm a gains ``effect`` in measure 0 at visit 2, arm b nothing."""
    pid = np.repeat(np.arange(n), 2)
    time = np.tile([0.0, 1.0], n)
    site = np.array(["s1", "s2", "s3"])[pid % 3]
    group = np.array(["a", "b"])[(pid // 3) % 2]
    base = 1.0 + 0.08 * rng.standard_normal((n, 6))[pid]
    y = base + 0.03 * rng.standard_normal((2 * n, 6))
    off = {"s1": 0.0, "s2": 0.15, "s3": -0.10}
    scale = {"s1": 1.0, "s2": 1.5, "s3": 0.8}
    # ComBat's model: site shifts the mean and scales the variation around it; the
    # treatment effect is the same at every site
    mean = y.mean(axis=0)
    raw = np.array([mean + scale[s] * (row - mean) + off[s] for row, s in zip(y, site)])
    treat = effect * time * (group == "a")
    raw[:, 0] += treat
    y[:, 0] += treat
    return raw, y, site, time, group, pid


def _effect(y, time, group, pid):
    d = y[time == 1, 0] - y[time == 0, 0]
    g = group[time == 1]
    return d[g == "a"].mean() - d[g == "b"].mean()


def test_site_offsets_removed_treatment_effect_kept():
    rng = np.random.default_rng(7)
    biases, offsets_raw, offsets_h = [], [], []
    for _ in range(20):
        raw, clean, site, time, group, pid = _study(rng)
        h, info = combat_harmonise(raw, site, time=time, group=group)
        assert info["protected"] == ["time", "time_x_b", "group"]
        biases.append(_effect(h, time, group, pid) - 0.06)
        offsets_raw.append(abs(raw[site == "s2", 1].mean() - raw[site == "s1", 1].mean()))
        offsets_h.append(abs(h[site == "s2", 1].mean() - h[site == "s1", 1].mean()))
    # the site offset (0.15) is gone to within the sampling error of two site means
    assert np.mean(offsets_raw) > 0.12
    assert np.mean(offsets_h) < 0.03
    # treatment x time effect kept: bias <= 10 % of the effect on average over 20 studies
    assert abs(np.mean(biases)) <= 0.1 * 0.06, np.mean(biases)


def test_missing_values_stay_missing_and_one_site_is_refused():
    from mrsquant.errors import InputError

    rng = np.random.default_rng(8)
    raw, _, site, time, group, _ = _study(rng, n=30)
    raw[3, 2] = np.nan
    raw[5, :] = np.nan
    h, _ = combat_harmonise(raw, site, time=time, group=group)
    assert np.isnan(h[3, 2]) and np.isnan(h[5]).all()
    assert np.isfinite(h[3, [0, 1, 3]]).all()
    with pytest.raises(InputError, match="at least 2 sites"):
        combat_harmonise(raw, np.full(len(raw), "s1"), time=time)


def test_sites_confounded_with_the_group_are_refused():
    """Each site holding one arm only: the site cannot be told from the treatment (ComBat
    would fail on a singular matrix); one clear error instead."""
    from mrsquant.errors import InputError

    rng = np.random.default_rng(9)
    raw, _, site, time, group, _ = _study(rng, n=30)
    site = np.where(group == "a", "s1", "s2")
    with pytest.raises(InputError, match="confounded"):
        combat_harmonise(raw, site, time=time, group=group)
    site[:4] = "s2"                           # one site mixed: identifiable again
    h, _ = combat_harmonise(raw, site, time=time, group=group)
    assert np.isfinite(h).all()


def test_cli_harmonise_site(tmp_path, capsys):
    import pandas as pd
    import xarray as xr

    from mrsquant.cli import main
    from mrsquant.longitudinal import make_cohort

    c = make_cohort(24, seed=60)
    site = {f"sub-{i + 1:02d}": ("s1", "s2", "s3")[i % 3] for i in range(24)}
    c.scores["site"] = c.scores["participant_id"].map(site)
    conc = c.concentrations
    sub = conc["spectrum"].str[:6]
    on_s2 = sub.map(site).eq("s2") & conc["metabolite"].isin(["NAA", "NAAG", "tNAA"])
    conc.loc[on_s2, "amplitude"] *= 1.15                     # site s2 reads tNAA 15 % high
    paths = c.write(tmp_path / "fit")
    out = tmp_path / "out"
    rc = main(["longitudinal", "--results", str(tmp_path / "fit"), "--scores",
               str(paths["scores"]), "--harmonise-site", "site", "-o", str(out),
               "--n-boot", "200", "--no-report"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "ComBat harmonisation across site" in captured.out
    ds = xr.open_dataset(out / "cohort.nc", engine="h5netcdf")
    sites = pd.Series([site[p] for p in ds["participant"].values])
    for var, lo, hi in (("value_raw", 0.12, 1.0), ("value", 0.0, 0.05)):
        v = ds[var].sel(measure="tNAA/tCr").values[:, 0]
        rel = v[(sites == "s2").to_numpy()].mean() / v[(sites == "s1").to_numpy()].mean() - 1
        assert lo <= abs(rel) <= hi, (var, rel)
    ds.close()
