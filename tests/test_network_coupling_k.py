"""A Network has one coupling strength: a coupling instance's explicit `k` is used or refused, never dropped."""
import brainstate
import brainunit as u
import numpy as np
import pytest

import brainmass


def _net(**kw):
    node = brainmass.HopfStep(3, a=0.1, w=0.3, init_x=np.array([0.3, -0.2, 0.1]))
    return brainmass.Network(node, conn=np.full((3, 3), 0.2), coupled_var='x', **kw)


@pytest.mark.parametrize('cls', [brainmass.DiffusiveCoupling, brainmass.AdditiveCoupling, brainmass.SigmoidalCoupling,
                                 brainmass.HyperbolicTangentCoupling])
def test_an_explicit_coupling_k_becomes_the_networks(cls):
    net = _net(coupling=cls(k=0.25))
    assert float(net.k.value()) == 0.25 and net.coupling.k is net.k
    with pytest.raises(ValueError, match=f'{cls.__name__} was built with k = 0.25 and the Network with k = 0.8'):
        _net(coupling=cls(k=0.25), k=0.8)
    assert float(_net(coupling=cls(k=0.8), k=0.8).k.value()) == pytest.approx(0.8)  # the same value: fine


def test_a_default_coupling_k_gives_way_to_the_networks():
    assert float(_net(coupling=brainmass.HyperbolicTangentCoupling()).k.value()) == 1.0  # as coupling='tanh'
    assert float(_net(coupling=brainmass.HyperbolicTangentCoupling(), k=0.3).k.value()) == pytest.approx(0.3)
    assert float(_net(coupling='tanh', k=0.3).k.value()) == pytest.approx(0.3)


def test_the_coupling_k_is_what_the_run_uses():
    """The trajectory with coupling=Diffusive(k=0.6) equals the one with the Network's k=0.6, not k=1."""
    def run(**kw):
        brainstate.environ.set(dt=0.1 * u.ms)
        net = _net(**kw)
        return np.asarray(u.get_magnitude(
            brainmass.Simulator(net, dt=0.1 * u.ms).run(5 * u.ms, monitors=['node.x'])['node.x']))
    a = run(coupling=brainmass.DiffusiveCoupling(k=0.6))
    b = run(coupling='diffusive', k=0.6)
    c = run(coupling='diffusive')
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - c)) > 1e-4


def test_a_trainable_coupling_k_is_fitted_as_the_networks():
    k = brainstate.nn.Param(0.4, fit=True)
    net = _net(coupling=brainmass.DiffusiveCoupling(k=k))
    assert net.k is k and 'k' in brainmass.sweep.parameter_paths(net)
    with pytest.raises(ValueError, match='trainable `k` and the Network was given k too'):
        _net(coupling=brainmass.DiffusiveCoupling(k=brainstate.nn.Param(0.4, fit=True)), k=0.4)


def test_the_signatures_still_read_as_documented():
    import inspect
    assert str(inspect.signature(brainmass.Network.__init__).parameters['k']) == 'k=1.0'
    assert str(inspect.signature(brainmass.HyperbolicTangentCoupling.__init__).parameters['k']) == 'k=0.5'
