"""An AverageMonitor's first sample averages the first recorded window only, never the transient."""
import brainstate
import brainunit as u
import numpy as np
import pytest

import brainmass


def _node():
    return brainmass.WilsonCowanStep(2, init_rE=np.array([0.1, 0.3]))


@pytest.mark.parametrize('precision', [32, 64])
def test_average_after_a_transient_is_the_window_mean(precision):
    with brainstate.environ.context(dt=1 * u.ms, precision=precision):
        drive = np.random.default_rng(0).normal(1.0, 0.5, (430, 2))
        full = np.asarray(brainmass.Simulator(_node()).run(430 * u.ms, inputs=drive, monitors=['rE'])['rE'])
        avg = np.asarray(brainmass.Simulator(_node()).run(
            430 * u.ms, inputs=drive, transient=30 * u.ms, sample_every=50,
            monitors={'avg': brainmass.AverageMonitor('rE')})['avg'])
    want = full[30:430].reshape(8, 50, 2).mean(axis=1)  # windows of steps 30-79, 80-129, ...
    np.testing.assert_allclose(avg, want, rtol=1e-5 if precision == 32 else 1e-12, atol=0)


def test_average_after_a_transient_in_a_blocked_delay_network():
    with brainstate.environ.context(dt=0.1 * u.ms):
        def net():
            node = brainmass.HopfStep(3, a=0.1, w=0.3, init_x=np.array([0.3, -0.2, 0.1]))
            return brainmass.Network(node, conn=np.full((3, 3), 0.2), distance=np.full((3, 3), 4.), speed=2.,
                                     coupled_var='x', k=0.5)
        full_net, avg_net = net(), net()
        assert avg_net.lookahead == 16  # the blocked program
        full = np.asarray(brainmass.Simulator(full_net).run(10 * u.ms, monitors=['node.x'])['node.x'])
        avg = np.asarray(brainmass.Simulator(avg_net).run(
            10 * u.ms, transient=3.3 * u.ms, sample_every=7,
            monitors={'avg': brainmass.AverageMonitor('node.x')})['avg'])
    n = avg.shape[0]
    want = full[33:33 + 7 * n].reshape(n, 7, 3).mean(axis=1)
    np.testing.assert_allclose(avg, want, atol=1e-6, rtol=0)


def test_hrf_bold_sample_times_count_the_constructors_history():
    import brainmass.observation as obs
    hist = np.random.default_rng(0).standard_normal((20000, 1))
    model = obs.HRFBold(period=2000 * u.ms, history=hist)
    y = model(np.zeros((30000, 1)), 1 * u.ms)
    times = model.sample_times(30000, 1 * u.ms)
    assert times.shape[0] == y.shape[0] == 15
    np.testing.assert_allclose(np.asarray(times.to_decimal(u.ms)), model.sample_times(
        30000, 1 * u.ms, history_steps=20000).to_decimal(u.ms))
    assert obs.HRFBold(period=2000 * u.ms).sample_times(30000, 1 * u.ms).shape[0] == \
        obs.HRFBold(period=2000 * u.ms)(np.zeros((30000, 1)), 1 * u.ms).shape[0]


def test_a_run_longer_than_an_int32_step_index_is_refused():
    sim = brainmass.Simulator(brainmass.HopfStep(1), dt=0.1 * u.ms)
    with pytest.raises(ValueError, match=r'`duration` .* one run takes at most 2147483647 steps'):
        sim.run(1e9 * u.ms)


def test_average_of_a_long_float32_window_keeps_its_precision():
    """40,000 steps per window (a 4 s TR at dt 0.1 ms): the float32 average equals the float64 mean of the same
    float32 trajectory to ~1e-7 (compensated summation; a plain float32 sum drifted by ~1e-5 here)."""
    with brainstate.environ.context(dt=0.1 * u.ms):
        node = brainmass.HopfStep(3, a=-0.05, w=0.05, init_x=np.array([0.3, -0.2, 0.1]))
        res = brainmass.Simulator(node).run(8000 * u.ms, inputs=np.full((80000, 3), 0.37, np.float32),
                                           monitors={'avg': brainmass.AverageMonitor('x')}, sample_every=40000)
        avg = np.asarray(res['avg'])
        full = np.asarray(brainmass.Simulator(node).run(8000 * u.ms, inputs=np.full((80000, 3), 0.37, np.float32),
                                                        monitors=['x'])['x'], dtype=np.float64)
    want = full.reshape(2, 40000, 3).mean(axis=1)
    assert np.abs(avg - want).max() / np.abs(want).max() < 1e-6


@pytest.mark.parametrize('kind', ['numpy', 'jax', 'quantity'])
def test_temporal_average_of_a_long_float32_window(kind):
    import jax.numpy as jnp
    from brainmass.observation import TemporalAverage
    x = (0.69 + 0.01 * np.sin(np.arange(80000) * 0.001)).astype(np.float32)[:, None] * np.ones((1, 3), np.float32)
    want = x.astype(np.float64).reshape(2, 40000, 3).mean(axis=1)
    signal = {'numpy': x, 'jax': jnp.asarray(x), 'quantity': x * u.mV}[kind]
    got = TemporalAverage(period=4000 * u.ms)(signal, 0.1 * u.ms)
    assert (u.get_unit(got) == u.mV) == (kind == 'quantity')
    assert u.get_magnitude(got).dtype == np.float32
    np.testing.assert_allclose(np.asarray(u.get_magnitude(got)), want, rtol=1e-6)  # was 5e-5 off for numpy input


def test_sample_times_are_the_nearest_float32_times_in_long_runs():
    from brainmass.orchestration.run_plan import RunPlan
    sim = brainmass.Simulator(brainmass.HopfStep(1), dt=0.1 * u.ms)
    plan = RunPlan(n_steps=36_000_004, n_transient=36_000_000, sample_every=1, n_samples=4, n_tail=0)
    ts = np.asarray(sim._sample_times(plan).to_decimal(u.ms))
    exact = np.arange(36_000_001, 36_000_005) * 0.1
    np.testing.assert_array_equal(ts, exact.astype(np.float32))  # one rounding (was off by up to 0.2 ms)
