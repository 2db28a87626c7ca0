"""The blocked (lookahead) delayed read must give exactly what the one-step-at-a-time path gives."""
import brainstate
import braintools
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass


def _network(n=6, density=1.0, coupling='diffusive', noise=False, method='exp_euler', seed=0):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < density)
    W = (W + W.T) / 2 / n
    np.fill_diagonal(W, 0)
    D = rng.uniform(10, 60, (n, n))
    D = (D + D.T) / 2
    node = brainmass.HopfStep(n, a=0.2, w=0.3, init_x=braintools.init.Uniform(-0.1, 0.1), method=method,
                              noise_x=brainmass.OUProcess(n, sigma=0.05) if noise else None)
    return brainmass.Network(node, conn=W, distance=D * u.mm, speed=10 * u.mm / u.ms, coupling=coupling,
                             coupled_var='x', k=0.7, delay_init=braintools.init.Uniform(0, 0.1))


def _run(force_single_step, case, run_kwargs):
    brainstate.environ.set(dt=0.1 * u.ms)
    net = _network(**case)
    if force_single_step:
        net._plan['K'] = 1
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
