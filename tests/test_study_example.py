"""examples/resting_state_study.py runs the whole study (small grid, short runs) and its files reload."""
import importlib.util
import pathlib

import brainunit as u
import numpy as np

import brainmass
from brainmass import sweep


def _example():
    path = pathlib.Path(__file__).parents[1] / 'examples' / 'resting_state_study.py'
    spec = importlib.util.spec_from_file_location('resting_state_study', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_study_sweeps_scores_plots_saves_and_reloads(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    result, best = _example().run_study(40 * u.second, k_values=(0.2, 0.4), speeds=(5.0, 20.0),
                                        source='synthetic', prefix='study')
    out = capsys.readouterr().out
    assert 'SYNTHETIC' in out and 'reloaded identical: table True, BOLD True' in out
    assert result.dims == ('speed', 'k') and result['fc_corr'].shape == (2, 2)
    assert np.all(np.abs(result['fc_corr']) <= 1) and np.all((result['fcd_ks'] >= 0) & (result['fcd_ks'] <= 1))
    assert {p.name for p in tmp_path.iterdir()} == {'study_sweep.npz', 'study_best_bold.npz', 'study.png'}
    back = sweep.SweepResult.load('study_sweep.npz')
    np.testing.assert_array_equal(back['fc_corr'], result['fc_corr'])
    bold, meta = brainmass.load_run('study_best_bold.npz', with_meta=True)
    assert bold['bold'].shape[1] == 8 and meta.attrs['data'].startswith('bundled')
    assert best['speed'].unit == u.mm / u.ms
