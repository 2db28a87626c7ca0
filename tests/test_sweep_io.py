"""SweepResult.save / load keep axes, units, metrics and info exactly."""
import matplotlib

matplotlib.use('Agg')
import brainunit as u  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import brainmass  # noqa: E402
from brainmass import sweep  # noqa: E402
from _helpers import close_figures  # noqa: E402,F401  (autouse: no plt.show, figures closed)


@pytest.fixture(scope='module')
def result():
    node = brainmass.HopfStep(2, w=0.3, init_x=0.1)
    space = sweep.Space(a=sweep.grid(-0.2, 0.2, 3), w=sweep.values([0.2, 0.3], unit=u.kHz))
    return sweep.run(node, space, duration=5 * u.ms, dt=0.1 * u.ms, monitors=['x'],
                     metrics={'var': lambda r: jnp.var(r['x']),
                              'last': lambda r: r['x'][-2:],
                              'span': lambda r: (r['ts'][-1] - r['ts'][0])})


def test_sweep_result_round_trip(result, tmp_path):
    path = result.save(tmp_path / 'sweep.npz')
    back = sweep.SweepResult.load(path)
    assert back.dims == result.dims and back.shape == result.shape
    assert back.space.axes['a'].kind == 'grid' and back.space.axes['w'].kind == 'values'
    assert back.space.axes['w'].unit == u.kHz and back.space.axes['a'].unit is None
    for name in result.metrics:
        a, b = result[name], back[name]
        assert type(a) is type(b)
        np.testing.assert_array_equal(u.get_magnitude(a), u.get_magnitude(b))
        if isinstance(a, u.Quantity):
            assert a.unit == b.unit
    assert back.best('var') == result.best('var')
    assert back.info['n_chunks'] == result.info['n_chunks']
    assert back.extra_dims('last') == result.extra_dims('last')


def test_sweep_files_are_told_apart(result, tmp_path):
    path = result.save(tmp_path / 'sweep.npz')
    with pytest.raises(ValueError, match='SweepResult.load'):
        brainmass.load_run(path)
    with pytest.raises(ValueError, match='SweepResult.load'):
        brainmass.FitResult.load(path)
    run_path = brainmass.save_run(tmp_path / 'run.npz', {'x': np.zeros((3, 2))})
    with pytest.raises(ValueError, match='load_run'):
        sweep.SweepResult.load(run_path)


def test_plot_sweep_heat_map_and_line(result):
    from brainmass import viz
    ax = viz.plot_sweep(result, 'var')
    assert (ax.get_xlabel(), ax.get_ylabel()) == ('w (kHz)', 'a')
    assert [t.get_text() for t in ax.get_xticklabels()] == ['0.2', '0.3']
    star = ax.lines[-1]
    best = result.best('var')['index']
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (best[1], best[0])
    ax = viz.plot_sweep(result, 'var', x='a', colorbar=False, mark_best=False)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ('a', 'w (kHz)') and not ax.lines
    ax = viz.plot_sweep(result, 'span')
    assert ax.figure.axes[-1].get_ylabel() == 'span (ms)'


def test_plot_sweep_refuses_what_it_cannot_draw(result):
    from brainmass import viz
    with pytest.raises(ValueError, match='`metric`'):
        viz.plot_sweep(result, 'nope')
    with pytest.raises(ValueError, match='scalar per point'):
        viz.plot_sweep(result, 'last')
    with pytest.raises(ValueError, match='`x`'):
        viz.plot_sweep(result, 'var', x='k')
    with pytest.raises(TypeError, match='SweepResult'):
        viz.plot_sweep({'var': 1}, 'var')
