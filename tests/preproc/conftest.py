import numpy as np
import pytest

import mrsquant as mq


@pytest.fixture(scope="session")
def dataset1(shared_data) -> np.ndarray:
    """The fitting challenge's dataset 1 (water-suppressed FID), as the 'clean' spectrum."""
    return mq.load(shared_data / "fitting_challenge_2016" / "datasets_text" / "dataset1.txt").data


@pytest.fixture(scope="session")
def nifti_examples(shared_data):
    return shared_data / "nifti_mrs_examples" / "tests" / "test_data"
