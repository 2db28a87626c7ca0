"""brainmass.sweep: axes and spaces, sweeps against per-point runs, chunking, sharding, restore, errors.

Cheap on purpose: 2-3 regions, runs of a few ms; the 4-device check runs in one subprocess
(XLA_FLAGS must be set before JAX starts).
"""
import os
import subprocess
import sys
import textwrap

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass import sweep
from _helpers import precision

DUR = 8 * u.ms
W = np.array([[0., 0.6, 0.2], [0.4, 0., 0.7], [0.3, 0.5, 0.]])
D = np.array([[0., 4., 9.], [4., 0., 6.], [9., 6., 0.]])  # mm
VAR = {'var': lambda r: jnp.var(r['node.x'])}


def hopf_net(k=0.3, a=0.05, speed=10 * u.mm / u.ms, noise=None, coupling='diffusive'):
    node = brainmass.HopfStep(3, a=a, w=0.3, init_x=np.array([0.1, -0.05, 0.2]), init_y=0.05,
                              noise_x=noise)
    return brainmass.Network(node, conn=W, distance=D, speed=speed, coupled_var='x', k=k, coupling=coupling)


def reference(build, duration=DUR, key=None, monitor='node.x'):
    """One plain Simulator run of the model ``build()`` (optionally from a random key)."""
    model = build()
    if key is not None:
        brainstate.random.set_key(key)
    return brainmass.Simulator(model, dt=0.1 * u.ms).run(duration, monitors=[monitor])[monitor]


def references(space, **net_kwargs):
    """Plain runs of ``hopf_net`` at every point of a space over 'k' / 'node.a': the two are trainable
    parameters of one model, set before each run (one compiled program for all points)."""
    k = brainstate.nn.Param(jnp.asarray(0.3), fit=True)
    a = brainstate.nn.Param(jnp.full(3, 0.05), fit=True)
    sim = brainmass.Simulator(hopf_net(k=k, a=a, **net_kwargs), dt=0.1 * u.ms)
    out = []
    for p in space.points():
        k.val.value = jnp.asarray(p.get('k', 0.3), dtype=k.val.value.dtype)
        a.val.value = jnp.full(3, p.get('node.a', 0.05), dtype=a.val.value.dtype)
        out.append(np.asarray(sim.run(DUR, monitors=['node.x'])['node.x']))
    assert sim.trace_count == 1
    return out


# ------------------------------------------------------------------ axes and spaces
def test_axes_values_units_and_seeds():
    np.testing.assert_allclose(sweep.grid(0.0, 1.0, 5).values, [0., .25, .5, .75, 1.])
    np.testing.assert_allclose(sweep.log_grid(1.0, 100.0, 3).values, [1., 10., 100.])
    ax = sweep.grid(1 * u.mm / u.ms, 2 * u.meter / u.second, 2)  # the second end converted to mm/ms
    np.testing.assert_allclose(ax.magnitudes, [1., 2.])
    assert ax.unit == u.mm / u.ms
    assert sweep.log_grid(1.0, 10.0, 2, unit=u.ms).values.unit == u.ms
    r1, r2 = sweep.random(0., 1., 6, seed=3), sweep.random(0., 1., 6, seed=3)
    np.testing.assert_array_equal(r1.values, r2.values)
    assert not np.array_equal(r1.values, sweep.random(0., 1., 6, seed=4).values)
    assert np.all(np.diff(r1.values) > 0) and np.all((r1.values >= 0) & (r1.values < 1))
    lr = sweep.random(1., 100., 50, seed=0, log=True).values
    assert lr.min() >= 1 and lr.max() < 100
    np.testing.assert_allclose(sweep.values([5., 10.] * u.ms).magnitudes, [5., 10.])
    np.testing.assert_allclose(sweep.values([1 * u.ms, 2 * u.second]).magnitudes, [1., 2000.])
    space = sweep.Space({'node.a': [-0.1, 0.1]}, k=sweep.grid(0., 0.2, 3))
    assert space.names == ('node.a', 'k') and space.shape == (2, 3) and len(space) == 6
    assert space.point(4) == {'node.a': 0.1, 'k': 0.1}
    assert list(space.points())[4] == space.point(4)
    assert 'Space(node.a=2, k=3; 6 points)' == repr(space)


@pytest.mark.parametrize('call, error, words', [
    (lambda: sweep.values([]), ValueError, 'empty'),
    (lambda: sweep.values([[1., 2.]]), ValueError, '1-D'),
    (lambda: sweep.values([1., np.nan]), ValueError, 'finite'),
    (lambda: sweep.values('abc'), TypeError, 'numbers'),
    (lambda: sweep.values([1., 2.] * u.ms, unit=u.mV), ValueError, 'unit'),
    (lambda: sweep.grid(0., 1., 0), ValueError, 'num'),
    (lambda: sweep.grid(0., 1., 2.5), TypeError, 'num'),
    (lambda: sweep.grid(0. * u.ms, 1. * u.mV, 3), ValueError, 'stop'),
    (lambda: sweep.log_grid(0., 1., 3), ValueError, '> 0'),
    (lambda: sweep.random(1., 0., 3), ValueError, 'low'),
    (lambda: sweep.random(0., 1., 3, seed=-1), ValueError, 'seed'),
    (lambda: sweep.Space(), ValueError, 'at least one axis'),
    (lambda: sweep.Space({'k': [1.]}, k=[2.]), ValueError, 'twice'),
])
def test_axis_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ------------------------------------------------------------------ sweeps against per-point runs
def test_batch_sweep_equals_pointwise_runs_and_restores_the_model():
    net = hopf_net()
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    before = sim.run(DUR, monitors=['node.x'])['node.x']
    k_param, a_param, n_traces = net.k, net.node.a, sim.trace_count
    space = sweep.Space({'k': sweep.grid(0.0, 0.6, 3), 'node.a': [-0.1, 0.1]})
    res = sweep.run(net, space, duration=DUR, monitors=['node.x'],
                    metrics={**VAR, 'last': lambda r: r['node.x'][-1]})
    assert res.info['vectorize'] == 'batch' and res.info['n_programs'] == 1
    assert res['var'].shape == (3, 2) and res['last'].shape == (3, 2, 3)
    assert res.extra_dims('last') == ('last_dim0',)
    for i, x in enumerate(references(space)):
        idx = np.unravel_index(i, space.shape)
        np.testing.assert_allclose(res['var'][idx], np.var(x), rtol=1e-5)
        np.testing.assert_allclose(res['last'][idx], x[-1], rtol=1e-5, atol=1e-7)
    # the model is as it was: same parameter objects, same results, no re-trace
    assert net.k is k_param and net.node.a is a_param and net.coupling.k is k_param
    np.testing.assert_array_equal(sim.run(DUR, monitors=['node.x'])['node.x'], before)
    assert sim.trace_count == n_traces


def test_vmap_sweep_of_a_coupling_parameter_equals_pointwise_runs():
    net = hopf_net(coupling='sigmoidal', k=0.5)
    space = sweep.Space({'coupling.midpoint': [-0.2, 0.3]})
    res = sweep.run(net, space, duration=DUR, monitors=['node.x'], metrics=VAR)
    assert res.info['vectorize'] == 'vmap'  # a coupling parameter is not on the model's batch axis
    for i, p in enumerate(space.points()):
        build = lambda: hopf_net(coupling=brainmass.SigmoidalCoupling(midpoint=p['coupling.midpoint']), k=0.5)
        np.testing.assert_allclose(res['var'][i], np.var(np.asarray(reference(build))), rtol=1e-5)
    with pytest.raises(ValueError, match="'coupling.midpoint'"):
        sweep.run(net, space, duration=DUR, monitors=['node.x'], metrics=VAR, vectorize='batch')


def test_noisy_sweep_per_point_keys_chunking_and_seed():
    net = hopf_net(noise=brainmass.OUProcess(3, sigma=0.05))
    space = sweep.Space(k=[0.0, 0.2, 0.4, 0.6, 0.8])
    key_before = np.asarray(jax.random.key_data(brainstate.random.get_key()))
    res = sweep.run(net, space, duration=DUR, monitors=['node.x'], metrics=VAR, seed=7, chunk_size=2)
    assert res.info['vectorize'] == 'vmap'  # noise: per-point random keys
    assert res.info['n_chunks'] == 3 and res.info['n_compiles'] == 1 and res.info['n_programs'] == 1
    # the global random key is untouched by a sweep
    np.testing.assert_array_equal(np.asarray(jax.random.key_data(brainstate.random.get_key())), key_before)
    # point i draws from fold_in(PRNGKey(seed), i), whatever its chunk: a plain run from that key (one
    # model with a trainable k, one compiled program) gives the same series
    k = brainstate.nn.Param(jnp.asarray(0.3), fit=True)
    sim = brainmass.Simulator(hopf_net(k=k, noise=brainmass.OUProcess(3, sigma=0.05)), dt=0.1 * u.ms)
    for i in (0, 3, 4):  # chunks 0, 1 and the padded last one
        k.val.value = jnp.asarray(space.point(i)['k'], dtype=jnp.float32)
        brainstate.random.set_key(jax.random.fold_in(jax.random.PRNGKey(7), i))
        x = np.asarray(sim.run(DUR, monitors=['node.x'])['node.x'])
        np.testing.assert_allclose(res['var'][i], np.var(x), rtol=1e-5)
    brainstate.random.set_key(jax.random.fold_in(jax.random.PRNGKey(8), 3))  # another seed: other noise
    assert not np.isclose(np.var(np.asarray(sim.run(DUR, monitors=['node.x'])['node.x'])), res['var'][3], rtol=1e-3)


def test_structural_speed_axis_equals_networks_built_at_that_speed():
    speeds = [2., 8.]
    space = sweep.Space(speed=sweep.values(speeds, unit=u.mm / u.ms), k=[0.2, 0.6])
    res = sweep.run(lambda speed: hopf_net(speed=speed), space, duration=DUR, monitors=['node.x'], metrics=VAR,
                    chunk_size=1)
    assert res.info['n_programs'] == 2 and res.info['n_compiles'] == 2 and res.info['n_chunks'] == 4
    for j, speed in enumerate(speeds):
        xs = references(sweep.Space(k=[0.2, 0.6]), speed=speed * u.mm / u.ms)
        np.testing.assert_allclose(res['var'][j], [np.var(x) for x in xs], rtol=1e-5)
    assert not np.allclose(res['var'][0], res['var'][1])  # the speed matters
    assert res.to_dict()['units']['speed'] == 'mm / ms'
    assert res.best('var')['speed'].unit == u.mm / u.ms


def test_in_loop_monitor_batch_equals_vmap_and_is_left_usable():
    mon = brainmass.AverageMonitor('node.x')
    args = dict(duration=DUR, monitors={'avg': mon}, sample_every=10, metrics={'avg': lambda r: r['avg'][-1]})
    space = sweep.Space(k=[0.0, 0.6])
    batch = sweep.run(hopf_net(), space, **args)
    vmap = sweep.run(hopf_net(), space, vectorize='vmap', **args)
    assert batch.info['vectorize'] == 'batch' and vmap.info['vectorize'] == 'vmap'
    np.testing.assert_allclose(batch['avg'], vmap['avg'], rtol=1e-5, atol=1e-7)
    assert not np.allclose(batch['avg'][0], batch['avg'][1])
    res = brainmass.Simulator(hopf_net(k=0.6), dt=0.1 * u.ms).run(DUR, monitors={'avg': mon}, sample_every=10)
    np.testing.assert_allclose(batch['avg'][1], np.asarray(res['avg'][-1]), rtol=1e-5, atol=1e-7)


def test_unit_parameters_and_quantity_metrics():
    node = brainmass.WilsonCowanStep(2, init_rE=0.1)
    space = sweep.Space(tau_E=sweep.values([0.5, 0.002] * u.second))  # converted to the parameter's ms
    res = sweep.run(node, space, duration=5 * u.ms, dt=0.1 * u.ms, monitors=['rE'],
                    metrics={'end': lambda r: r['rE'][-1, 0] * u.mV, 't_end': lambda r: r['ts'][-1]})
    assert res['end'].unit == u.mV and res['t_end'].unit.has_same_dim(u.ms)
    for i, tau in enumerate([500., 2.]):
        ref = brainmass.Simulator(brainmass.WilsonCowanStep(2, init_rE=0.1, tau_E=tau * u.ms), dt=0.1 * u.ms)
        np.testing.assert_allclose(res['end'].to_decimal(u.mV)[i], np.asarray(ref.run(5 * u.ms, monitors=['rE'])['rE'])
                                   [-1, 0], rtol=1e-5)
    assert node.tau_E.value() == 1. * u.ms  # restored


def test_float64_sweep_matches_float64_runs():
    with precision(64):
        space = sweep.Space(k=[0.1, 0.5])
        res = sweep.run(hopf_net(), space, duration=DUR, monitors=['node.x'], metrics=VAR)
        assert res['var'].dtype == np.float64
        xs = references(space)
        assert xs[0].dtype == np.float64
        np.testing.assert_allclose(res['var'], [np.var(x) for x in xs], rtol=1e-12)


def test_restored_after_an_error_in_a_metric():
    net = hopf_net()
    k_param, conn = net.k, net.conn
    key_before = np.asarray(jax.random.key_data(brainstate.random.get_key()))

    def broken(res):
        raise RuntimeError('metric failed')
    with pytest.raises(RuntimeError, match='metric failed'):
        sweep.run(net, {'k': [0.1, 0.2]}, duration=DUR, monitors=['node.x'], metrics={'m': broken})
    assert net.k is k_param and net.conn is conn and net.coupling.k is k_param
    np.testing.assert_array_equal(np.asarray(jax.random.key_data(brainstate.random.get_key())), key_before)
    x = brainmass.Simulator(net, dt=0.1 * u.ms).run(DUR, monitors=['node.x'])['node.x']
    np.testing.assert_allclose(np.asarray(x), np.asarray(reference(hopf_net)), rtol=1e-6)


# ------------------------------------------------------------------ the result table
def test_result_table_dict_best_and_repr():
    space = sweep.Space(k=[0.0, 0.3, 0.6], **{'node.a': [-0.1, 0.1]})
    res = sweep.run(hopf_net(), space, duration=DUR, monitors=['node.x'], metrics=VAR)
    d = res.to_dict()
    assert d['dims'] == ('k', 'node.a') and d['data']['var'].shape == (3, 2)
    np.testing.assert_allclose(d['coords']['k'], [0., .3, .6])
    best = res.best('var')
    assert res['var'][best['index']] == np.max(res['var']) and best['var'] == np.max(res['var'])
    worst = res.best('var', higher_is_better=False)
    assert worst['var'] == np.min(res['var'])
    assert 'SweepResult(dims=(k: 3, node.a: 2)' in repr(res) and 'var (3, 2)' in repr(res)
    with pytest.raises(KeyError, match='var'):
        res['nope']
    with pytest.raises(TypeError, match='higher_is_better'):
        res.best('var', higher_is_better='yes')


def test_to_xarray():
    xr = pytest.importorskip('xarray')
    space = sweep.Space(speed=sweep.values([2., 8.], unit=u.mm / u.ms), k=[0.2, 0.6])
    res = sweep.run(lambda speed: hopf_net(speed=speed), space, duration=DUR, monitors=['node.x'],
                    metrics={**VAR, 'last': lambda r: r['node.x'][-1]})
    ds = res.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds['var'].dims == ('speed', 'k') and ds['last'].dims == ('speed', 'k', 'last_dim0')
    assert ds['speed'].attrs['units'] == 'mm / ms'
    np.testing.assert_array_equal(ds['var'].values, res['var'])
    assert float(ds['var'].sel(speed=8., k=0.6)) == res['var'][1, 1]


# ------------------------------------------------------------------ bad input, before any compile
@pytest.mark.parametrize('kwargs, error, words', [
    (dict(space={'node.b': [1.]}), ValueError, "'node.b'.*node.a, node.beta, node.w"),
    (dict(space={'beta': [1.]}), ValueError, "Did you mean 'node.beta'"),
    (dict(space={'node.a': [1.] * u.mV}), ValueError, "'node.a' is in mV, but the parameter 'node.a' is in kHz"),
    (dict(space={'k': [1.] * u.ms}), ValueError, "'k' is dimensionless"),
    (dict(space={'conn': [1.]}), TypeError, "'conn'"),
    (dict(chunk_size=0), ValueError, 'chunk_size'),
    (dict(chunk_size=1.5), TypeError, 'chunk_size'),
    (dict(metrics={}), TypeError, 'metrics'),
    (dict(metrics={'k': lambda r: 0.}), ValueError, 'axis'),
    (dict(metrics={'m': 3.}), TypeError, 'callable'),
    (dict(metrics={'m': lambda r: {'a': 1.}}), TypeError, "metric 'm' returned dict"),
    (dict(devices=99), ValueError, 'devices'),
    (dict(devices='cpu'), TypeError, 'devices'),
    (dict(vectorize='pmap'), ValueError, 'vectorize'),
    (dict(space=[1., 2.]), TypeError, 'space'),
    (dict(seed=-1), ValueError, 'seed'),
    (dict(progress='yes'), TypeError, 'progress'),
])
def test_bad_input(kwargs, error, words):
    args = dict(space={'k': [0.1, 0.2]}, duration=DUR, monitors=['node.x'], metrics=VAR)
    args.update(kwargs)
    with pytest.raises(error, match=words):
        sweep.run(hopf_net(), **args)


def test_bad_factory():
    with pytest.raises(TypeError, match="needs 'speed'"):
        sweep.run(lambda speed: hopf_net(speed=speed), {'k': [0.1]}, duration=DUR, metrics=VAR)
    with pytest.raises(TypeError, match='must return a brainstate module'):
        sweep.run(lambda speed: 3, {'speed': [1.]}, duration=DUR, metrics=VAR)
    with pytest.raises(TypeError, match='`model`'):
        sweep.run(3, {'k': [1.]}, duration=DUR, metrics=VAR)


def test_progress_bar_text(capsys):
    sweep.run(hopf_net(), {'k': [0.1, 0.2, 0.3]}, duration=DUR, monitors=['node.x'], metrics=VAR, chunk_size=2,
              progress=True)
    err = capsys.readouterr().err
    assert '[sweep]' in err and '2/2 chunks, 3/3 points' in err


# ------------------------------------------------------------------ sharded over 4 host devices
SHARDED = textwrap.dedent('''
    import brainmass, brainstate, brainunit as u, jax, jax.numpy as jnp, numpy as np
    from brainmass import sweep
    assert len(jax.devices()) == 4, jax.devices()
    brainstate.environ.set(dt=0.1 * u.ms)
    W = np.array([[0., 0.6, 0.2], [0.4, 0., 0.7], [0.3, 0.5, 0.]])
    D = np.array([[0., 4., 9.], [4., 0., 6.], [9., 6., 0.]])
    def net(noise):
        node = brainmass.HopfStep(3, a=0.05, w=0.3, init_x=np.array([0.1, -0.05, 0.2]), noise_x=noise)
        return brainmass.Network(node, conn=W, distance=D, speed=10 * u.mm / u.ms, coupled_var='x', k=0.3)
    space = sweep.Space({'k': sweep.grid(0.0, 0.8, 5), 'node.a': [-0.1, 0.1]})
    met = {'var': lambda r: jnp.var(r['node.x']), 'last': lambda r: r['node.x'][-1]}
    for noise in (None, brainmass.OUProcess(3, sigma=0.05)):
        runs = [sweep.run(net(noise), space, duration=8 * u.ms, monitors=['node.x'], metrics=met, devices=d,
                          chunk_size=c) for d, c in ((1, None), (None, 4))]
        assert [r.info['devices'] for r in runs] == [1, 4]
        assert runs[1].info['n_chunks'] == 3 and runs[1].info['n_compiles'] == 1
        for r in runs[1:]:
            for m in met:
                np.testing.assert_allclose(r[m], runs[0][m], rtol=1e-5, atol=1e-7)
        print(runs[0].info['vectorize'], 'ok')
''')


def test_sharded_over_four_devices_equals_one_device():
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=4', JAX_PLATFORMS='cpu')
    out = subprocess.run([sys.executable, '-c', SHARDED], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ['batch', 'ok', 'vmap', 'ok']
