"""Soft prior knowledge on concentrations (opt-in: ``priors="literature"``, ``--priors literature``).

A weak Gaussian prior on each metabolite's ratio to tCr, from normal adult
human brain concentration ranges (Govindaraju et al. 2000, NMR Biomed 13:129;
de Graaf, In vivo NMR Spectroscopy, 3rd ed. 2019), with the lower bounds of
GSH and Tau widened to the ultra-high-field in-vivo values (Tkac et al. 2009,
MRM 62:868: GSH ~1.3, Tau ~1.5 umol/g), which sit below the older ranges. The prior mean is the centre of the range on a log scale
(the geometric mean sqrt(low * high): concentrations are positive and vary multiplicatively
between people and regions, so "1-4 mM" is centred at 2 mM, not 2.5), its SD half the range
(the whole range within about +-1 SD), both divided by a reference tCr of 9 mM.

The prior enters the linear solve as a quadratic penalty
``sigma^2 (a_m - r_m a_tCr)^2 / (s_m a_tCr)^2``: where the data are
informative (CRLB << prior SD) it has no effect; at low SNR it keeps weak,
overlapping metabolites (Gly under mI, GABA/GSH/Gln under Glu, Tau) from
trading signal with each other. Reported CRLBs exclude the prior (they are
Cramer-Rao bounds of the data alone).

Off by default: a prior pulls every estimate towards the typical value, so a
true difference between spectra (visit to visit, patient to control) reads
smaller than it is (with these priors a doubling of GABA read as +27 %;
docs/fitting.md). Each estimate's share of precision that came from the prior
is reported as ``prior_influence`` (0..1) in concentrations.tsv and fit.nc.
"""
from __future__ import annotations

import numpy as np

TCR_REFERENCE_MM = 9.0

#: metabolite: (low, high) of the published normal range in mM
LITERATURE_RANGES_MM = {
    "NAA": (7.9, 16.6), "NAAG": (0.6, 2.7), "GPC": (0.4, 1.7), "PCh": (0.2, 1.0),
    "Glu": (6.0, 12.5), "Gln": (3.0, 5.8), "mI": (3.8, 8.1), "GABA": (1.0, 2.0),
    "GSH": (1.0, 3.0), "Tau": (1.0, 4.0), "Asp": (1.0, 2.0), "Lac": (0.2, 1.0),
    "Ala": (0.1, 1.4), "Asc": (0.5, 1.5), "Glc": (1.0, 2.0), "Gly": (0.4, 1.0),
    "PE": (1.0, 1.6), "sI": (0.1, 0.5),
}


#: metabolites that get no prior by default: the well-determined main signals,
#: whose CRLBs must describe the data alone
UNCONSTRAINED = ("NAA", "Cr", "PCr", "GPC", "PCh", "Glu", "mI")


def prior_matrix(names, *, strength: float = 1.0, ranges=LITERATURE_RANGES_MM, skip=UNCONSTRAINED,
                 tcr_mm: float = TCR_REFERENCE_MM) -> np.ndarray | None:
    """``(M, M)`` matrix ``P`` with penalty ``a^T P a / a_tCr^2`` (in units of sigma^2).

    None when the basis has no Cr/PCr to refer to.
    """
    names = list(names)
    ref = [names.index(n) for n in ("Cr", "PCr") if n in names]
    if not ref or strength <= 0:
        return None
    m = len(names)
    p = np.zeros((m, m))
    for name, (lo, hi) in ranges.items():
        if name not in names or name in skip:
            continue
        r = np.sqrt(lo * hi) / tcr_mm           # centre on a log scale
        s = 0.5 * (hi - lo) / tcr_mm / strength
        v = np.zeros(m)
        v[names.index(name)] = 1.0
        v[ref] -= r
        p += np.outer(v, v) / s ** 2
    return p
