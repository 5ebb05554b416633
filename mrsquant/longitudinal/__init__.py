"""Longitudinal statistics: metabolite changes between visits against symptom scores (tables in, tables out).

The file-level runner (reading fit folders, writing TSV/NetCDF/PDF) is :mod:`mrsquant.app.longitudinal`.

    from mrsquant.app.longitudinal import run_longitudinal   # or mrsquant.run_longitudinal
    res = run_longitudinal(["fits/"], "scores.tsv", outdir="longitudinal/")
    res.tests, res.associations, res.mixed     # pandas DataFrames

The same analysis is ``mrsquant longitudinal --results fits/ --scores scores.tsv -o OUT``.
See docs/longitudinal.md.
"""
from __future__ import annotations

from .analysis import (  # noqa: F401
                       DEFAULT_CV_PERCENT,
                       DEFAULT_REMISSION,
                       associations,
                       change_table,
                       cv_for,
                       mixed_models,
                       paired_tests,
                       responder_tests,
)
from .cohort import (  # noqa: F401
                       DEFAULT_MEASURES,
                       LOW_CONCENTRATION,
                       Cohort,
                       QCRules,
                       assemble_cohort,
                       parse_entities,
                       read_results,
                       read_scores,
                       read_sessions,
)
from .reliable import reliable_change, retest_table  # noqa: F401
from .synthetic import make_cohort, simulate_changes  # noqa: F401
