"""The blocked (lookahead) delayed read must give exactly what the one-step-at-a-time path gives."""
import dataclasses

import brainstate
import braintools
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass


def _network(n=6, density=1.0, coupling='diffusive', noise=False, method='exp_euler', seed=0, k=0.7):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < density)
    W = (W + W.T) / 2 / n
    np.fill_diagonal(W, 0)
    D = rng.uniform(10, 60, (n, n))
    D = (D + D.T) / 2
    node = brainmass.HopfStep(n, a=0.2, w=0.3, init_x=braintools.init.Uniform(-0.1, 0.1), method=method,
                              noise_x=brainmass.OUProcess(n, sigma=0.05) if noise else None)
    return brainmass.Network(node, conn=W, distance=D * u.mm, speed=10 * u.mm / u.ms, coupling=coupling,
                             coupled_var='x', k=k, delay_init=braintools.init.Uniform(0, 0.1))


def _run(force_single_step, case, run_kwargs):
    brainstate.environ.set(dt=0.1 * u.ms)
    net = _network(**case)
    if force_single_step:
        net._plan = dataclasses.replace(net._plan, K=1)
    brainstate.random.seed(7)
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(23.7 * u.ms, monitors=['node.x', 'node.y'], **run_kwargs)
    return net, {k: np.asarray(u.get_magnitude(res[k])) for k in ('node.x', 'node.y')}


@pytest.mark.parametrize('case, run_kwargs', [
    (dict(), dict()),
    (dict(density=0.15, n=12), dict(sample_every=3, transient=1.1 * u.ms)),
    (dict(coupling='sigmoidal', method='rk4'), dict(batch_size=2)),
    (dict(noise=True), dict(inputs=(jnp.ones((237, 6)) * 0.1,))),
])
def test_blocked_equals_single_step(case, run_kwargs):
    blocked_net, blocked = _run(False, case, dict(run_kwargs))
    assert blocked_net.lookahead > 1  # delays of >= 1 ms at dt 0.1 ms: the blocked path is in use
    _, single = _run(True, case, dict(run_kwargs))
    for key in blocked:
        assert blocked[key].shape == single[key].shape
        np.testing.assert_allclose(blocked[key], single[key], atol=1e-5, rtol=0)


@pytest.mark.parametrize('case, run_kwargs', [
    (dict(), dict()),                                   # dense blocked read
    (dict(density=0.15, n=12), dict(sample_every=3)),   # sparse blocked read
    (dict(coupling='sigmoidal'), dict(batch_size=2)),   # batched: one source at a time
    (dict(), dict(checkpoint=True)),                    # two-level checkpointed blocks
    (dict(density=0.15, n=12), dict(sample_every=3, checkpoint=True)),
])
def test_blocked_gradient_equals_forward_mode(case, run_kwargs):
    """Reverse mode through the rematerialised steps and blocked read equals forward mode (jvp)."""
    import jax

    brainstate.environ.set(dt=0.1 * u.ms)
    net = _network(**case, k=brainstate.nn.Param(0.7, t=brainstate.nn.SoftplusT(0.), fit=True))
    assert net.lookahead > 1
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)

    def predict(model):
        brainstate.random.seed(3)
        return sim.run(12.3 * u.ms, monitors=['node.x'], **run_kwargs)['node.x']

    target = jnp.zeros_like(u.get_magnitude(predict(net)))
    fitter = brainmass.Fitter(net, predict=predict, objective=lambda p, t: jnp.mean((p - t + 0.05) ** 2),
                              gradient='reverse')
    loss_of, theta0 = fitter.make_loss(target)
    grad = jax.grad(loss_of)(theta0)
    _, tangent = jax.jvp(loss_of, (theta0,), (jnp.ones_like(theta0),))
    assert np.isfinite(float(tangent)) and abs(float(tangent)) > 0
    np.testing.assert_allclose(float(jnp.sum(grad)), float(tangent), rtol=1e-4)


def test_run_without_jit_equals_compiled_run():
    """``jit=False`` runs the same (blocked, rematerialised) program eagerly."""
    brainstate.environ.set(dt=0.1 * u.ms)
    net = _network()
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    out = {}
    for jit in (False, True):
        brainstate.random.seed(0)
        out[jit] = np.asarray(u.get_magnitude(sim.run(3.1 * u.ms, monitors=['node.x'], jit=jit)['node.x']))
    assert out[False].shape == (31, 6)
    np.testing.assert_allclose(out[False], out[True], atol=1e-6, rtol=0)


@pytest.mark.parametrize('shape, axis', [((5, 0, 3), 1), ((5, 1, 3), 1), ((7, 76, 10), 1), ((9, 13), 1), ((13, 4), 0), ((3, 33, 2, 4), 1)])
def test_pairwise_sum_is_the_sum_with_the_sums_derivatives(shape, axis):
    import jax

    from brainmass._core.transforms import pairwise_sum
    x = jnp.asarray(np.random.default_rng(1).normal(size=shape), dtype=jnp.float32)
    dx = jnp.asarray(np.random.default_rng(2).normal(size=shape), dtype=jnp.float32)
    ref = np.asarray(x, dtype=np.float64).sum(axis)
    np.testing.assert_allclose(pairwise_sum(x, axis), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(jax.jit(pairwise_sum, static_argnums=1)(x, axis), ref, rtol=1e-5, atol=1e-5)
    _, tangent = jax.jvp(lambda v: pairwise_sum(v, axis), (x,), (dx,))
    np.testing.assert_allclose(tangent, np.asarray(dx, dtype=np.float64).sum(axis), rtol=1e-5, atol=1e-5)
    cot = jnp.ones(ref.shape, jnp.float32) * 0.5
    (grad,) = jax.vjp(lambda v: pairwise_sum(v, axis), x)[1](cot)
    np.testing.assert_allclose(grad, np.broadcast_to(np.expand_dims(np.asarray(cot), axis), shape))
    batched = jax.vmap(lambda v: pairwise_sum(v, axis))(jnp.stack([x, 2 * x]))
    np.testing.assert_allclose(batched[1], 2 * ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize('history', ['initializer', 'callable'])
def test_read_time_adjoint_is_used_where_it_applies_and_agrees_with_forward_mode(history):
    """Dense constant conn + initializer history: reverse mode carries the delayed sums' cotangents by
    read time (custom transposes); a custom history callable falls back to plain reverse mode."""
    import jax

    brainstate.environ.set(dt=0.1 * u.ms)
    net = _network(k=brainstate.nn.Param(0.7, t=brainstate.nn.SoftplusT(0.), fit=True))
    if history == 'callable':
        net.delay_init = lambda shape: 0.05 * jnp.ones(shape)
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)

    def predict(model):
        brainstate.random.seed(3)
        return sim.run(9.7 * u.ms, monitors=['node.x'], transient=1.3 * u.ms)['node.x']

    target = jnp.zeros_like(u.get_magnitude(predict(net)))
    loss_of, theta0 = brainmass.Fitter(net, predict=predict, objective=lambda p, t: jnp.mean((p - t + 0.05) ** 2),
                                       gradient='reverse').make_loss(target)
    uses_custom = 'custom_linear_solve' in str(jax.make_jaxpr(jax.grad(loss_of))(theta0))
    assert uses_custom == (history == 'initializer')
    grad = jax.grad(loss_of)(theta0)
    _, tangent = jax.jvp(loss_of, (theta0,), (jnp.ones_like(theta0),))
    assert abs(float(tangent)) > 0
    np.testing.assert_allclose(float(jnp.sum(grad)), float(tangent), rtol=1e-4)
    fd_step = 1e-2
    fd = (loss_of(theta0 + fd_step) - loss_of(theta0 - fd_step)) / (2 * fd_step)
    np.testing.assert_allclose(float(jnp.sum(grad)), float(fd), rtol=2e-2)
    if history == 'initializer':  # second order (forward over reverse) through the custom transposes
        hess = jax.hessian(loss_of)(theta0)
        fd_grad = (jax.grad(loss_of)(theta0 + fd_step) - jax.grad(loss_of)(theta0 - fd_step)) / (2 * fd_step)
        np.testing.assert_allclose(float(jnp.sum(hess)), float(jnp.sum(fd_grad)), rtol=2e-2)
