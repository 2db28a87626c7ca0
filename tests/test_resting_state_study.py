"""The resting-state BOLD study of the network guide runs on the bundled connectome."""
import importlib.util
import pathlib
import warnings

import numpy as np


def _example():
    path = pathlib.Path(__file__).parents[1] / 'examples' / 'resting_state_bold.py'
    spec = importlib.util.spec_from_file_location('resting_state_bold', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_guide_resting_state_study_gives_a_bold_fc():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)  # WongWangModel is the guide's old name
        fc, bold = _example().guide_style(simulation_time=40)
    fc, bold = np.asarray(fc), np.asarray(bold)
    assert bold.shape == (20, 8) and fc.shape == (8, 8)
    assert np.all(np.isfinite(fc)) and np.allclose(np.diag(fc), 1.0, atol=1e-5)
    assert np.abs(bold).max() > 0  # the noise drives a BOLD response
    assert np.allclose(fc, fc.T, atol=1e-6)


def test_network_resting_state_study_with_in_loop_bold():
    fc, bold = _example().network_style(simulation_time=40)
    assert bold.shape == (20, 8) and np.all(np.isfinite(fc))
    assert np.abs(bold).max() > 0
