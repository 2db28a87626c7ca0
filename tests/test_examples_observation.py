"""The per-modality observation examples run and show what they claim."""
import importlib.util
import pathlib

import numpy as np


def _example(name):
    path = pathlib.Path(__file__).parents[1] / 'examples' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eeg_from_jansen_rit_shows_alpha(tmp_path):
    figure = tmp_path / 'eeg.png'
    peak, values = _example('eeg_jansen_rit').main(duration_s=3.0, figure=str(figure))
    assert 8.0 <= peak <= 12.0  # the Jansen-Rit alpha rhythm reaches the electrodes
    assert values.shape == (2000, 32) and np.all(np.isfinite(values))
    np.testing.assert_allclose(values.sum(1), 0.0, atol=1e-3 * np.abs(values).max())  # average reference
    assert figure.stat().st_size > 0
