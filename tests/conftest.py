"""Shared fixtures. Real data live in ../shared/data (or $MRSQUANT_DATA)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data folder; skipped when absent, an error under CI=true."""
    path = shared_data_dir()
    if not path.is_dir():
        msg = f"shared test data not found at {path} (set MRSQUANT_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def challenge(shared_data) -> Path:
    return shared_data / "fitting_challenge_2016"


@pytest.fixture(scope="session", autouse=True)
def _basis_cache(tmp_path_factory):
    """Tests never write to the user's cache (~/.cache/mrsquant): one cache folder for the session."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MRSQUANT_CACHE", str(tmp_path_factory.mktemp("mrsquant-cache")))
        yield
