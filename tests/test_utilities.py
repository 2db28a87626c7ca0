"""Utilities: sigmoid, sys2nd, bounded_input, process_sequence."""
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import brainmass


def test_sigmoid_matches_its_formula_with_and_without_units():
    v = np.linspace(-5., 15., 41)
    expected = 5. / (1. + np.exp(0.56 * (6. - v)))
    np.testing.assert_allclose(brainmass.sigmoid(v, 5., 6., 0.56), expected, rtol=1e-6)
    q = brainmass.sigmoid(v * u.mV, 5. * u.Hz, 6. * u.mV, 0.56 / u.mV)
    np.testing.assert_allclose(q.to_decimal(u.Hz), expected, rtol=1e-6)


def test_sys2nd_integrates_to_the_alpha_kernel():
    # a unit impulse of rate at t = 0 gives y(t) = A a t exp(-a t) (Jansen & Rit 1995)
    A, a = 3.25, 0.1  # mV, 1/ms

    def rhs(t, state):
        y, dy = state
        return [dy, float(brainmass.sys2nd(A, a, 0.0, y, dy))]

    t = np.linspace(0., 80., 161)
    sol = solve_ivp(rhs, (0., 80.), [0., A * a], t_eval=t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol.y[0], A * a * t * np.exp(-a * t), atol=1e-8)
    # units follow the arithmetic
    ddy = brainmass.sys2nd(3.25 * u.mV, 100. * u.Hz, 220. * u.Hz, 0. * u.mV, 0. * u.mV / u.second)
    assert u.get_unit(ddy).has_same_dim(u.mV / u.second ** 2)


def test_bounded_input_is_a_smooth_clamp():
    x = jnp.array([-1e6, -3., 0., 3., 1e6])
    y = brainmass.bounded_input(x, bound=10.)
    np.testing.assert_allclose(y, 10. * np.tanh(np.asarray(x) / 10.), rtol=1e-6)
    assert float(jax.grad(lambda v: brainmass.bounded_input(v))(0.)) == pytest.approx(1.)
    q = brainmass.bounded_input(600. * u.mV)  # a plain bound is read in the unit of x
    assert q.to_decimal(u.mV) < 500. and u.get_unit(q) == u.mV
    with pytest.raises(ValueError, match='bound'):
        brainmass.bounded_input(1., bound=0.)
    with pytest.raises(ValueError, match=r'`bound` must have the unit of `x` \(in mV.*ms'):
        brainmass.bounded_input(jnp.ones(3) * u.mV, bound=5 * u.ms)


def test_process_sequence_layouts():
    images = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    pixels = brainmass.process_sequence(images, mode='pixels')
    assert pixels.shape == (12, 2, 1)
    np.testing.assert_array_equal(pixels[:, 1, 0], images[1].ravel())
    rows = brainmass.process_sequence(images, mode='rows')
    np.testing.assert_array_equal(rows[2, 0], images[0, 2])
    perm_a = brainmass.process_sequence(images, mode='permuted_pixels', seed=3)
    perm_b = brainmass.process_sequence(images, mode='permuted_pixels', seed=3)
    np.testing.assert_array_equal(perm_a, perm_b)
    np.testing.assert_array_equal(np.sort(perm_a[:, 0, 0]), images[0].ravel())
    trials = jnp.ones((8, 50))
    assert brainmass.process_sequence(trials).shape == (50, 8, 1)
    with pytest.raises(ValueError, match="mode"):
        brainmass.process_sequence(images, mode='columns')
    with pytest.raises(ValueError, match=r'\(batch, H, W\)'):
        brainmass.process_sequence(np.zeros(5), mode='pixels')


def test_process_sequence_feeds_a_horn_network():
    x, _ = brainmass.datasets.delayed_match_task(6, seq_len=5, n_symbols=3)
    net = brainmass.HORNSeqNetwork(num_in=3, num_hidden=8, num_out=3)
    assert net.predict(brainmass.process_sequence(x)).shape == (6, 3)
