"""Every custom derivative rule in brainmass against central finite differences, in float64.

One test per rule of docs/design/*.md: ``pairwise_sum`` and ``derivatives_by_forward_mode``
(``_core/transforms.py``, custom_jvp), the float32 ``arctan2`` of the Hilbert phase
(``analysis/spectral.py``, custom_jvp) and the read-time adjoint of a Network's blocked delayed
read and write (``network/network.py``, custom_jvp + custom_linear_solve). Central differences
with step ``h`` have error ``O(h^2)`` plus rounding ``O(eps / h)``; in float64 with ``h = 1e-6``
both are far below the tolerances used here.
"""
import brainstate
import braintools
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from _helpers import jax_flag, precision

H = 1e-6


def central(f, x, direction, h=H):
    """(f(x + h d) - f(x - h d)) / 2h: the derivative of f at x along d."""
    return (f(x + h * direction) - f(x - h * direction)) / (2 * h)


def test_pairwise_sum_derivatives_match_finite_differences():
    from brainmass._core.transforms import pairwise_sum
    with jax_flag('jax_enable_x64', True):
        rng = np.random.default_rng(0)
        x = jnp.asarray(rng.normal(size=(5, 13, 3)))               # 13: odd lengths on the way down
        d = jnp.asarray(rng.normal(size=x.shape))
        w = jnp.asarray(rng.normal(size=(5, 3)))
        loss = jax.jit(lambda v: jnp.sum(w * jnp.sin(pairwise_sum(v, 1))))  # non-linear around the rule
        fd = central(loss, x, d)
        assert x.dtype == jnp.float64
        np.testing.assert_allclose(jnp.vdot(jax.jit(jax.grad(loss))(x), d), fd, rtol=1e-8)                  # reverse
        np.testing.assert_allclose(jax.jit(lambda v: jax.jvp(loss, (v,), (d,))[1])(x), fd, rtol=1e-8)      # forward


@pytest.mark.parametrize('size', [1, 3])
def test_derivatives_by_forward_mode_match_finite_differences(size):
    from brainmass._core.transforms import derivatives_by_forward_mode
    with jax_flag('jax_enable_x64', True):
        data = jnp.linspace(0., 1., 7)

        def f(theta, data):
            return jnp.sum(jnp.tanh(theta[0] * data + jnp.sum(theta ** 2) * data ** 2))

        g = derivatives_by_forward_mode(f)
        loss = jax.jit(lambda t: g(t, data))
        grad = jax.jit(jax.grad(loss))
        theta = jnp.linspace(0.4, 0.9, size)
        d = jnp.linspace(1., -0.5, size) if size > 1 else jnp.ones(1)
        assert theta.dtype == jnp.float64
        fd = central(loss, theta, d)
        np.testing.assert_allclose(jnp.vdot(grad(theta), d), fd, rtol=1e-8)
        np.testing.assert_allclose(jax.jit(lambda t: jax.jvp(loss, (t,), (d,))[1])(theta), fd, rtol=1e-8)
        # second order through the rule (forward mode over it) against differences of the gradient
        hess_d = jax.jit(jax.hessian(loss))(theta) @ d
        np.testing.assert_allclose(hess_d, central(grad, theta, d), rtol=1e-6, atol=1e-9)


def test_float32_atan2_rule_is_the_derivative_of_atan2():
    """The rule, evaluated in float32, against float64 differences of numpy's arctan2 and of the
    polynomial itself; 0 (not NaN) at the origin."""
    from brainmass.analysis.spectral import _atan2_f32
    rng = np.random.default_rng(1)
    y, x = rng.normal(size=(2, 64))
    y[:4], x[:4] = [1., -1., 1e-3, 0.], [1e-3, 0., -1., 2.]   # near the octant switches and on the axes
    dy, dx = rng.normal(size=(2, 64))
    jvp = jax.jit(lambda *a: jax.jvp(_atan2_f32, a[:2], a[2:])[1])
    rule = np.asarray(jvp(*(jnp.asarray(v, jnp.float32) for v in (y, x, dy, dx))))
    assert rule.dtype == np.float32
    exact = (np.arctan2(y + H * dy, x + H * dx) - np.arctan2(y - H * dy, x - H * dx)) / (2 * H)
    np.testing.assert_allclose(rule, exact, rtol=1e-5, atol=1e-6)
    with jax_flag('jax_enable_x64', True):  # the same polynomial in float64, differenced
        along = jax.jit(lambda t: _atan2_f32(jnp.asarray(y) + t * dy, jnp.asarray(x) + t * dx))
        poly = np.asarray(central(along, 0., 1.))
    np.testing.assert_allclose(rule, poly, rtol=2e-5, atol=1e-5)
    origin = jax.jit(jax.grad(lambda v: _atan2_f32(v[0], v[1])))(jnp.zeros(2, jnp.float32))
    assert np.all(np.asarray(origin) == 0.)


def test_read_time_adjoint_matches_finite_differences():
    """A delayed network whose blocked read and write use the read-time transposes: its reverse-mode
    gradient (two parameters, so plain reverse mode) equals float64 central differences."""
    with precision(64):
        brainstate.environ.set(dt=0.1 * u.ms)
        n = 4
        rng = np.random.default_rng(2)
        W = rng.uniform(0.2, 1., (n, n)) / n
        np.fill_diagonal(W, 0.)
        D = rng.uniform(10., 30., (n, n))
        node = brainmass.HopfStep(n, a=brainstate.nn.Param(0.2, t=brainstate.nn.SigmoidT(-1., 1.)), w=0.3,
                                  init_x=braintools.init.Uniform(-0.1, 0.1))
        net = brainmass.Network(node, conn=W, distance=(D + D.T) / 2 * u.mm, speed=10 * u.mm / u.ms,
                                coupled_var='x', k=brainstate.nn.Param(0.7, t=brainstate.nn.SoftplusT(0.)),
                                delay_init=braintools.init.Uniform(0., 0.1))
        sim = brainmass.Simulator(net, dt=0.1 * u.ms)

        def predict(model):
            brainstate.random.seed(3)
            return sim.run(6.3 * u.ms, monitors=['node.x'])['node.x']

        target = jnp.zeros((63, n))
        fitter = brainmass.Fitter(net, predict=predict, objective=lambda p, t: jnp.mean((p - t + 0.05) ** 2))
        loss, theta0 = fitter.make_loss(target)
        assert net.lookahead > 1 and fitter.gradient_mode == 'reverse' and theta0.dtype == jnp.float64
        traced = jax.jit(jax.value_and_grad(loss)).trace(theta0)     # one trace and one compile
        assert 'custom_linear_solve' in str(traced.jaxpr)            # the read-time transposes are in use
        value_and_grad = traced.lower().compile()
        grad = np.asarray(value_and_grad(theta0)[1])
        assert np.all(np.abs(grad) > 1e-6)
        fd = [float(central(lambda t: value_and_grad(t)[0], theta0, jnp.eye(theta0.size)[i]))
              for i in range(theta0.size)]
        np.testing.assert_allclose(grad, fd, rtol=1e-6)
