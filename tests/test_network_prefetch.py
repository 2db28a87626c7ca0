"""The prefetch protocol: a block's delayed sums read in one go and passed to each step as an argument."""
import brainstate
import braintools
import brainunit as u
import numpy as np
import pytest

import brainmass


def _network(n=4):
    rng = np.random.default_rng(1)
    W = rng.uniform(0, 0.3, (n, n))
    np.fill_diagonal(W, 0)
    node = brainmass.HopfStep(n, a=0.2, w=0.3, init_x=braintools.init.Uniform(-0.1, 0.1))
    return brainmass.Network(node, conn=W, distance=rng.uniform(4, 8, (n, n)), speed=2., coupled_var='x', k=0.5,
                             delay_init=braintools.init.Uniform(0, 0.1))


def _states(net):
    return np.stack([np.asarray(u.get_magnitude(net.node.x.value)), np.asarray(u.get_magnitude(net.node.y.value))])


def _two_networks():
    nets = []
    for _ in range(2):
        brainstate.random.seed(0)
        net = _network()
        brainstate.nn.init_all_states(net)
        nets.append(net)
    return nets


@pytest.mark.parametrize('precision', [32, 64])
def test_eager_blocks_equal_single_steps(precision):
    """Stepping with prefetch / delayed=row / write_prefetched gives the step-by-step trajectory."""
    with brainstate.environ.context(dt=0.1 * u.ms, precision=precision):
        blocked, single = _two_networks()
        assert blocked.lookahead == 16  # delays of 2-4 ms at dt 0.1 ms; a block is at most 16 steps
        for n in (16, 3, 1, 16):
            rows = blocked.prefetch(n)
            assert rows.shape == (n, 4)
            for k in range(n):
                blocked(delayed=rows[k])
                single()
            blocked.write_prefetched(n)
            tol = 1e-12 if precision == 64 else 1e-6
            np.testing.assert_allclose(_states(blocked), _states(single), atol=tol, rtol=0)
            assert int(blocked.pointer.value) == int(single.pointer.value)


def test_prefetch_refuses_what_it_cannot_do():
    with brainstate.environ.context(dt=0.1 * u.ms):
        net = _network()
        with pytest.raises(ValueError, match='init_all_states'):
            net.prefetch(2)
        brainstate.nn.init_all_states(net)
        with pytest.raises(ValueError, match='between 1 and the lookahead of this network \\(16'):
            net.prefetch(17)
        with pytest.raises(ValueError, match='`n_steps` must be between 1'):
            net.write_prefetched(0)
        with pytest.raises(TypeError, match='`n_steps` must be an int'):
            net.prefetch(2.0)
        rows = net.prefetch(2)
        with pytest.raises(ValueError, match='`delayed` must be one row of what prefetch\\(\\) returned, shape \\(4,\\)'):
            net(delayed=rows)
        short = brainmass.Network(brainmass.HopfStep(2), conn=np.ones((2, 2)), distance=np.full((2, 2), 0.1),
                                  speed=1., coupled_var='x')
        brainstate.nn.init_all_states(short)
        assert short.lookahead == 1
        with pytest.raises(ValueError, match='no lookahead'):
            short.prefetch(1)
        with pytest.raises(ValueError, match='no lookahead'):
            short(delayed=np.zeros(2))


class _Wrapped(brainstate.nn.Dynamics):
    """A user's model holding a Network: the Simulator steps it one step at a time."""

    def __init__(self, net):
        super().__init__(net.in_size)
        self.net = net

    def update(self):
        return self.net()


@pytest.mark.parametrize('precision', [32, 64])
def test_a_network_inside_a_users_model_gives_the_blocked_result(precision):
    with brainstate.environ.context(dt=0.1 * u.ms, precision=precision):
        brainstate.random.seed(0)
        top = _network()
        brainstate.random.seed(0)
        wrapped = _Wrapped(_network())
        brainstate.random.seed(5)
        a = brainmass.Simulator(top, dt=0.1 * u.ms).run(9.3 * u.ms, monitors=['node.x'])['node.x']
        brainstate.random.seed(5)
        b = brainmass.Simulator(wrapped, dt=0.1 * u.ms).run(9.3 * u.ms, monitors=['net.node.x'])['net.node.x']
    np.testing.assert_allclose(np.asarray(u.get_magnitude(a)), np.asarray(u.get_magnitude(b)),
                               atol=1e-12 if precision == 64 else 1e-6, rtol=0)
