import os

os.environ.setdefault('MPLBACKEND', 'Agg')

import brainstate  # noqa: E402
import brainunit as u  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _default_dt():
    """Every test starts with dt = 0.1 ms and a fixed seed."""
    brainstate.environ.set(dt=0.1 * u.ms)
    brainstate.random.seed(0)
    yield
