"""In-loop observers agree with offline processing of the full trace."""
import brainunit as u
import jax.numpy as jnp
import numpy as np

import brainmass

from _helpers import mag


def test_bold_monitor_matches_offline_bold_of_full_trace():
    node = brainmass.WilsonCowanStep(2)
    drive = jnp.concatenate([jnp.ones((500, 2)) * 1.5, jnp.zeros((3500, 2))])
    sim = brainmass.Simulator(node, dt=1. * u.ms)
    res = sim.run(4000 * u.ms, inputs=drive, sample_every=250,
                  monitors={'bold': brainmass.BOLDMonitor('rE'), 'rE': 'rE'})
    full = brainmass.Simulator(node, dt=1. * u.ms).run(4000 * u.ms, inputs=drive, monitors=['rE'])
    offline = mag(brainmass.bold_from_trace(mag(full['rE']), 1. * u.ms))
    np.testing.assert_allclose(mag(res['bold']), offline[249::250], rtol=1e-4, atol=1e-7)
    assert res['bold'].shape == (16, 2)


def test_average_monitor_equals_window_means_and_keeps_units():
    node = brainmass.MontbrioPazoRoxinStep(3)
    full = brainmass.Simulator(node, dt=0.01 * u.ms).run(5 * u.ms, monitors=['r'])
    res = brainmass.Simulator(node, dt=0.01 * u.ms).run(5 * u.ms, sample_every=50,
                                                        monitors={'r': brainmass.AverageMonitor('r')})
    expect = mag(full['r']).reshape(10, 50, 3).mean(1)
    np.testing.assert_allclose(mag(res['r']), expect, rtol=1e-5)
    assert u.get_unit(res['r']) == u.Hz


def test_reused_observer_does_not_retrace():
    node = brainmass.HopfStep(2, init_x=0.2)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    mon = {'avg': brainmass.AverageMonitor(lambda m: m.x.value)}
    a = sim.run(2 * u.ms, monitors=mon, sample_every=5)
    b = sim.run(2 * u.ms, monitors=mon, sample_every=5)
    assert sim.trace_count == 1
    np.testing.assert_array_equal(mag(a['avg']), mag(b['avg']))
