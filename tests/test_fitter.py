"""Tests for brainmass.orchestration.fitter (Fitter, FitResult).

Every fit compiles one program, so the suite keeps the number of fits on the
simulated network small (one per back end) and exercises the rest on a
simulation-free quadratic model whose programs compile instantly.
"""
import warnings

import braintools
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass import objectives
from brainmass.orchestration.fitter import FitResult, Fitter, trainable_parameters, transform_bounds

N = 4
DT = 0.1 * u.ms
DURATION = 30 * u.ms
TRANSIENT = 50  # samples dropped before the objective
K_TRUE = 0.5
A_TRUE = 0.2


def _connectome():
    rng = np.random.default_rng(3)
    w = np.triu(rng.uniform(0., 1., (N, N)), 1)
    lengths = np.triu(rng.uniform(10., 50., (N, N)), 1)
    return w + w.T, lengths + lengths.T


def make_network(k=K_TRUE, a=A_TRUE, k_transform=None, fit_a=True):
    """A 4-node delayed Hopf network; k (SoftplusT) and node a (SigmoidT) trainable."""
    w, lengths = _connectome()
    a = brainstate.nn.Param(a, t=brainstate.nn.SigmoidT(-1., 1.)) if fit_a else a
    node = brainmass.HopfStep(N, a=a, w=0.3,
                              init_x=jnp.linspace(0.1, 0.4, N), init_y=0.05)
    k_param = brainstate.nn.Param(k, t=k_transform or brainstate.nn.SoftplusT(0.))
    return brainmass.Network(node, conn=w, distance=lengths * u.mm, speed=10 * u.mm / u.ms,
                             coupled_var='x', k=k_param, delay_init=lambda shape: jnp.full(shape, 0.1))


class Counted:
    """predict(model) that counts how often it is traced (called in Python)."""

    def __init__(self, net, duration=DURATION):
        self.sim = brainmass.Simulator(net, dt=DT)
        self.duration = duration
        self.calls = 0

    def __call__(self, model):
        self.calls += 1
        return self.sim.run(self.duration, monitors=['node.x'])['node.x']


@pytest.fixture(scope='module')
def target():
    brainstate.environ.set(dt=DT)
    net = make_network()
    return np.asarray(Counted(net)(net))[TRANSIENT:]


# ------------------------------------------------------------ discovery
def test_discovers_parameters_by_path_with_bounds():
    params = trainable_parameters(make_network())
    assert list(params) == ['k', 'node.a']
    assert params['k'].bounds == (0.0, None)
    assert params['node.a'].bounds == (-1.0, 1.0)
    assert transform_bounds(brainstate.nn.IdentityT()) == (None, None)
    assert transform_bounds(brainstate.nn.NegSoftplusT(2.)) == (None, 2.)


# ------------------------------------------------------- back ends: network
def test_grad_recovers_k_and_reproduces_best_loss(target, capsys):
    net = make_network(k=0.25)  # 50 % off
    predict = Counted(net)
    seen = []
    fitter = Fitter(net, braintools.optim.Adam(lr=0.05), predict=predict, transient=TRANSIENT,
                    callbacks=lambda info: seen.append((info['step'], info['loss'], float(info['params']['k']))))
    result = fitter.fit(target, n_steps=100, verbose=True)

    assert isinstance(result, FitResult) and result.backend == 'grad'
    k = float(result.best_params['k'])
    assert abs(k - K_TRUE) / K_TRUE < 0.05, result
    assert abs(float(result.best_params['node.a']) - A_TRUE) < 0.02
    assert result.best_loss <= 0.1 * result.initial_loss
    assert result.history.shape == (100,) and result.n_steps == 100
    assert result.best_loss == min(result.initial_loss, result.history.min())
    # the simulation is traced (and the program built) once per fit
    assert predict.calls == 1 and fitter.trace_count == 1
    # best params produced best_loss exactly, and the model holds them
    assert float(net.k.value()) == k
    loss, prediction = fitter.evaluate()
    assert loss == result.best_loss
    assert predict.calls == 1
    np.testing.assert_array_equal(np.asarray(prediction), np.asarray(result.prediction))
    assert result.prediction.shape == target.shape
    # an independent forward run at the stored parameters agrees
    independent = objectives.timeseries_rmse()(predict(net)[TRANSIENT:], target)
    assert float(independent) == pytest.approx(result.best_loss, rel=1e-4, abs=1e-7)
    # callbacks see every step with constrained values; verbose prints progress
    assert [s for s, _, _ in seen] == list(range(1, 101))
    assert seen[-1][1] == result.history[-1]
    out = capsys.readouterr().out
    assert '[Fitter:grad]' in out and 'best' in out
    assert 'best_loss' in repr(result) and "'k'" in repr(result)


def test_nevergrad_recovers_k(target):
    net = make_network(k=0.25, fit_a=False)
    predict = Counted(net)
    fitter = Fitter(net, {'method': 'DE', 'n_sample': 8, 'seed': 0}, predict=predict, backend='nevergrad',
                    transient=TRANSIENT, search_space={'k': (0., 1.5)})
    result = fitter.fit(target, n_steps=12)
    assert abs(float(result.best_params['k']) - K_TRUE) / K_TRUE < 0.10, result
    assert result.history.shape == (12,) and np.all(np.diff(result.history) <= 0)
    assert result.n_evaluations == 12 * 8
    assert predict.calls == 1 and fitter.trace_count == 1
    assert fitter.evaluate()[0] == result.best_loss
    assert float(net.k.value()) == float(result.best_params['k'])


def test_scipy_recovers_k(target):
    net = make_network(k=0.25, fit_a=False)
    predict = Counted(net)
    fitter = Fitter(net, predict=predict, backend='scipy', transient=TRANSIENT)
    result = fitter.fit(target, n_steps=30)
    assert fitter.gradient_mode == 'forward'  # one parameter value: forward-mode gradients
    k = float(result.best_params['k'])
    assert result.best_loss <= 0.1 * result.initial_loss or abs(k - K_TRUE) / K_TRUE < 0.10, result
    assert result.optimizer == 'L-BFGS-B' and result.raw.nit <= 30
    assert predict.calls == 1
    assert fitter.evaluate()[0] == result.best_loss
    assert float(net.k.value()) == k


def test_forward_mode_derivative_matches_reverse_gradient():
    """jax.jvp along k agrees with the reverse-mode gradient (N = 4, 20 ms)."""
    net = make_network(k=0.3)
    target = 0.1 * np.ones((200, N), dtype=np.float32)
    fitter = Fitter(net, predict=Counted(net, 20 * u.ms), objective=objectives.timeseries_rmse())
    loss_of, theta0 = fitter.make_loss(target)
    assert list(fitter.parameters) == ['k', 'node.a']
    e_k = jnp.zeros_like(theta0).at[0].set(1.)

    @jax.jit
    def both(theta):
        return jax.grad(loss_of)(theta)[0], jax.jvp(loss_of, (theta,), (e_k,))[1]

    reverse, forward = both(theta0)
    assert abs(float(reverse)) > 1e-4
    np.testing.assert_allclose(float(forward), float(reverse), rtol=1e-3)


@pytest.mark.parametrize('fit_a', [False, True])
def test_gradient_modes_agree_with_each_other_and_finite_differences(fit_a):
    """'auto' differentiates one parameter value in forward mode and two in reverse mode;
    'forward' and 'reverse' give the same gradient, which central differences confirm."""
    brainstate.environ.set(dt=DT)
    target = 0.1 * np.ones((200, N), dtype=np.float32)
    grads, modes, losses = {}, {}, {}
    for gradient in ('auto', 'forward', 'reverse'):
        net = make_network(k=0.3, fit_a=fit_a)
        fitter = Fitter(net, predict=Counted(net, 20 * u.ms), objective=objectives.timeseries_rmse(),
                        gradient=gradient)
        losses[gradient], theta0 = fitter.make_loss(target)
        grads[gradient] = np.asarray(jax.jit(jax.grad(losses[gradient]))(theta0))
        modes[gradient] = fitter.gradient_mode
        assert f'gradient={gradient!r}' in repr(fitter)
    assert modes == {'auto': 'reverse' if fit_a else 'forward', 'forward': 'forward', 'reverse': 'reverse'}
    assert grads['auto'].shape == theta0.shape and np.all(np.abs(grads['reverse']) > 1e-4)
    np.testing.assert_allclose(grads['forward'], grads['reverse'], rtol=1e-3)
    np.testing.assert_allclose(grads['auto'], grads['reverse'], rtol=1e-3)
    step = 1e-2
    fd = [(losses['reverse'](theta0.at[i].add(step)) - losses['reverse'](theta0.at[i].add(-step))) / (2 * step)
          for i in range(theta0.size)]
    np.testing.assert_allclose(grads['forward'], np.asarray(fd), rtol=2e-2)
    if not fit_a:  # second order through the forward-mode rule
        hess = jax.hessian(losses['forward'])(theta0)
        g = jax.grad(losses['forward'])
        np.testing.assert_allclose(np.ravel(hess), (g(theta0 + step) - g(theta0 - step)) / (2 * step), rtol=2e-2)


def test_auto_gradient_takes_reverse_mode_through_a_custom_vjp_function():
    """jax has no forward-mode derivative of a custom_vjp function: 'auto' falls back to reverse mode,
    'forward' says why it cannot."""
    @jax.custom_vjp
    def soft(x):
        return jnp.tanh(x)

    soft.defvjp(lambda x: (jnp.tanh(x), x), lambda x, g: (g * (1. - jnp.tanh(x) ** 2),))

    class One(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.p = brainstate.nn.Param(0.2)

    def loss(m):
        return (soft(m.p.value()) - 0.5) ** 2

    fitter = Fitter(One(), braintools.optim.Adam(lr=0.05), loss_fn=loss)
    assert fitter.gradient_mode == 'forward'  # one value; nothing traced yet
    result = fitter.fit(n_steps=150)
    assert fitter.gradient_mode == 'reverse'
    assert float(result.best_params['p']) == pytest.approx(float(np.arctanh(0.5)), abs=0.02)
    with pytest.raises(ValueError, match="gradient='forward'.*custom_vjp.*'reverse'"):
        Fitter(One(), loss_fn=loss, gradient='forward').make_loss()


@pytest.mark.parametrize('size', [1, 3])
def test_derivatives_by_forward_mode_equal_plain_autodiff(size):
    """The forward-mode rule gives jax's own derivatives (grad with aux, jvp, hessian, under vmap and jit)
    and refuses to differentiate its data arguments."""
    from brainmass._core.transforms import derivatives_by_forward_mode

    def f(theta, data):
        x = theta[0] * jnp.sin(theta[-1] * data) + jnp.sum(theta)
        return jnp.sum(x ** 2), (x, jnp.arange(3))  # an integer output too

    g, data = derivatives_by_forward_mode(f), jnp.linspace(0., 1., 5)
    theta = jnp.linspace(0.7, 1.3, size)
    (value, (x, ints)), grad = jax.value_and_grad(g, has_aux=True)(theta, data)
    (value_ref, (x_ref, _)), grad_ref = jax.value_and_grad(f, has_aux=True)(theta, data)
    assert float(value) == pytest.approx(float(value_ref), rel=1e-6)
    np.testing.assert_allclose(x, x_ref, rtol=1e-6)
    assert ints.tolist() == [0, 1, 2]
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-5)
    loss, loss_ref = (lambda t: g(t, data)[0]), (lambda t: f(t, data)[0])
    direction = jnp.linspace(-1., 2., size)
    np.testing.assert_allclose(jax.jvp(loss, (theta,), (direction,))[1],
                               jax.jvp(loss_ref, (theta,), (direction,))[1], rtol=1e-5)
    np.testing.assert_allclose(jax.hessian(loss)(theta), jax.hessian(loss_ref)(theta), rtol=1e-4, atol=1e-5)
    batch = jnp.stack([theta, 2 * theta])
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.grad(loss)))(batch), jax.vmap(jax.grad(loss_ref))(batch),
                               rtol=1e-5)
    with pytest.raises(TypeError, match='first argument'):
        jax.grad(lambda d: g(theta, d)[0])(data)


# ----------------------------------------- back ends on a simulation-free model
class Quadratic(brainstate.nn.Module):
    def __init__(self, p0=0.5, q0=1.0):
        super().__init__()
        self.p = brainstate.nn.Param(p0, t=brainstate.nn.SigmoidT(0., 4.))
        self.q = brainstate.nn.Param(jnp.full(2, q0))  # unbounded (IdentityT)


def quad_loss(m):
    return (m.p.value() - 3.) ** 2 + jnp.sum((m.q.value() - jnp.array([-1., 2.])) ** 2)


@pytest.mark.parametrize('backend,optimizer,n_steps,gradient', [
    ('grad', braintools.optim.Adam(lr=0.1), 300, 'auto'),
    ('grad', braintools.optim.Adam(lr=0.1), 300, 'forward'),
    ('nevergrad', {'method': 'CMA', 'n_sample': 8}, 40, 'auto'),
    ('nevergrad', 'TwoPointsDE', 30, 'auto'),
    ('scipy', 'L-BFGS-B', 50, 'auto'),
    ('scipy', 'L-BFGS-B', 50, 'forward'),
    ('scipy', {'method': 'Nelder-Mead', 'xatol': 1e-6, 'fatol': 1e-10}, 400, 'auto'),
])
def test_loss_fn_backends_reach_the_optimum(backend, optimizer, n_steps, gradient):
    model = Quadratic()
    space = {'q': (-5., 5.)} if backend != 'grad' else None
    fitter = Fitter(model, optimizer, loss_fn=quad_loss, backend=backend, search_space=space, gradient=gradient)
    assert fitter.gradient_mode == ('forward' if gradient == 'forward' else 'reverse')  # three values
    result = fitter.fit(n_steps=n_steps)
    tol = 0.1 if backend == 'nevergrad' else 0.02
    assert float(result.best_params['p']) == pytest.approx(3., abs=tol), result
    np.testing.assert_allclose(np.asarray(result.best_params['q']), [-1., 2.], atol=tol * 2)
    assert result.prediction is None
    assert fitter.evaluate()[0] == result.best_loss
    assert float(quad_loss(model)) == pytest.approx(result.best_loss, rel=1e-5, abs=1e-7)


def test_scipy_warns_about_a_misspelt_option_and_not_about_its_own_defaults():
    import scipy.optimize
    for method in ('TNC', 'L-BFGS-B', 'Nelder-Mead'):
        with warnings.catch_warnings():
            warnings.simplefilter('error', scipy.optimize.OptimizeWarning)
            Fitter(Quadratic(), method, loss_fn=quad_loss, backend='scipy').fit(n_steps=3)
    with pytest.warns(scipy.optimize.OptimizeWarning, match='maxitre'):
        Fitter(Quadratic(), {'method': 'L-BFGS-B', 'maxitre': 5}, loss_fn=quad_loss, backend='scipy').fit(n_steps=3)


def test_callback_stops_early_and_grad_projects_into_search_space():
    model = Quadratic()
    result = Fitter(model, braintools.optim.Adam(lr=0.2), loss_fn=quad_loss, search_space={'p': (0., 2.)},
                    callbacks=lambda info: info['step'] >= 40).fit(n_steps=500)
    assert result.n_steps == 40 and result.stop_reason == 'callback'
    assert float(result.best_params['p']) <= 2.0 + 1e-5  # the optimum 3 lies outside the range
    assert float(result.best_params['p']) == pytest.approx(2.0, abs=0.02)


def test_best_params_are_the_ones_that_produced_best_loss():
    """A step size that overshoots: the last step is not the best one."""
    model = Quadratic(p0=2.9, q0=0.)
    result = Fitter(model, braintools.optim.SGD(lr=1.2), loss_fn=quad_loss).fit(n_steps=8)
    assert result.raw['best_step'] < 8
    assert result.best_loss == pytest.approx(float(quad_loss(model)), rel=1e-6)
    assert result.best_loss < result.history[-1]


def test_nevergrad_falls_back_to_a_loop_when_the_model_cannot_be_vmapped():
    @jax.custom_batching.custom_vmap
    def no_vmap(x):
        return x

    @no_vmap.def_vmap
    def _rule(axis_size, in_batched, x):
        raise NotImplementedError('this model cannot be vmapped')

    def loss(m):
        return no_vmap((m.p.value() - 3.) ** 2)

    model = Quadratic()
    model.q = jnp.zeros(2)  # only p is trainable
    fitter = Fitter(model, {'n_sample': 8}, loss_fn=loss, backend='nevergrad')
    with pytest.warns(RuntimeWarning, match='one by one'):
        result = fitter.fit(n_steps=20)
    assert float(result.best_params['p']) == pytest.approx(3., abs=0.1)
    assert fitter.evaluate()[0] == result.best_loss


def test_time_transient_is_converted_with_dt():
    node = brainmass.HopfStep(2, a=brainstate.nn.Param(0.1, t=brainstate.nn.SigmoidT(-1., 1.)), init_x=0.1)
    sim = brainmass.Simulator(node, dt=DT)
    predict = lambda m: sim.run(5 * u.ms, monitors=['x'])['x']  # 50 samples
    fitter = Fitter(node, predict=predict, transient=1 * u.ms)  # drops 10 samples
    loss_of, theta0 = fitter.make_loss(np.zeros((40, 2)))  # traces only: no compile
    assert theta0.shape == (1,)
    with pytest.raises(ValueError, match=r'\(50, 2\).*\(40, 2\).*transient=1 ms'):
        fitter.make_loss(np.zeros((50, 2)))
    # with sub-sampling the sample times are needed: a clear error, not a silent guess
    sub = Fitter(node, predict=lambda m: sim.run(5 * u.ms, monitors=['x'], sample_every=2), transient=1 * u.ms)
    with pytest.raises(ValueError, match='number of samples'):
        sub.make_loss(np.zeros((20, 2)))


# ------------------------------------------------------------- bad input
def test_no_trainable_parameters_says_how_to_mark_one():
    node = brainmass.HopfStep(2)
    with pytest.raises(ValueError, match=r'brainstate\.nn\.Param\(.*fit=True'):
        Fitter(node, loss_fn=lambda m: 0.)


def test_unknown_backend_lists_choices():
    with pytest.raises(ValueError, match="'grad', 'nevergrad', 'scipy'"):
        Fitter(Quadratic(), loss_fn=quad_loss, backend='adam')
    with pytest.raises(ValueError, match=r"`gradient` 'adjoint'.*'auto', 'forward', 'reverse'"):
        Fitter(Quadratic(), loss_fn=quad_loss, gradient='adjoint')


def test_search_space_unknown_parameter_lists_known_ones():
    with pytest.raises(ValueError, match=r"'kk'.*'k', 'node\.a'"):
        Fitter(make_network(), predict=lambda m: None, search_space={'kk': (0., 1.)})
    with pytest.raises(ValueError, match="Did you mean 'node.a'"):
        Fitter(make_network(), predict=lambda m: None, search_space={'a': (0., 1.)})


def test_unbounded_parameter_needs_a_range_for_gradient_free_backends():
    with pytest.raises(ValueError, match=r"'q' is unbounded.*search_space"):
        Fitter(Quadratic(), loss_fn=quad_loss, backend='nevergrad')
    with pytest.raises(ValueError, match=r"'k' is unbounded"):
        Fitter(make_network(), predict=lambda m: None, backend='nevergrad')
    with pytest.raises(ValueError, match='outside'):
        Fitter(Quadratic(), loss_fn=quad_loss, backend='scipy', search_space={'p': (-1., 2.)})


def test_target_shape_mismatch_shows_both_shapes():
    net = make_network()
    predict = Counted(net, 5 * u.ms)
    fitter = Fitter(net, predict=predict)
    with pytest.raises(ValueError, match=r'\(10, 4\).*\(50, 4\)'):
        fitter.fit(np.zeros((10, 4)), n_steps=2)
    with pytest.raises(ValueError, match=r'\(50, 3\).*\(40, 4\).*transient'):
        Fitter(net, predict=predict, transient=10).fit(np.zeros((50, 3)), n_steps=2)


def test_nan_target_is_rejected_before_tracing():
    net = make_network()
    predict = Counted(net, 5 * u.ms)
    target = np.zeros((50, 4))
    target[3, 1] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        Fitter(net, predict=predict).fit(target)
    assert predict.calls == 0


@pytest.mark.parametrize('backend, optimizer', [('grad', None), ('scipy', 'Nelder-Mead')])
def test_a_diverging_simulation_is_never_the_best_fit(backend, optimizer):
    """NaN predictions give NaN losses (not a perfect 0), so the fit refuses them."""
    node = brainmass.HopfStep(2, a=brainstate.nn.Param(5e4, t=brainstate.nn.SigmoidT(-1., 1e5)), init_x=0.1)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)

    def predict(model):
        return sim.run(2 * u.ms, monitors=['x'])['x']

    optimizer = optimizer or braintools.optim.Adam(lr=1e-2)
    fitter = Fitter(node, optimizer, predict=predict, backend=backend)
    with pytest.raises(FloatingPointError, match='nan|non-finite'):
        fitter.fit(np.zeros((20, 2), np.float32), n_steps=2)


def test_argument_errors():
    with pytest.raises(TypeError, match='not both'):
        Fitter(Quadratic(), loss_fn=quad_loss, predict=lambda m: 0.)
    with pytest.raises(TypeError, match='predict'):
        Fitter(Quadratic())
    with pytest.raises(ValueError, match=r'as_loss=True'):
        Fitter(Quadratic(), predict=lambda m: 0., objective=objectives.fc_corr())
    with pytest.raises(ValueError, match="'Nelder-Mead'"):
        Fitter(Quadratic(), 'BFGS', loss_fn=quad_loss, backend='scipy')
    with pytest.raises(ValueError, match='nevergrad method'):
        Fitter(Quadratic(), 'NoSuchOptimizer', loss_fn=quad_loss, backend='nevergrad',
               search_space={'q': (-1., 1.)})
    with pytest.raises(TypeError, match='braintools.optim'):
        Fitter(Quadratic(), 'adam', loss_fn=quad_loss)
    with pytest.raises(TypeError, match='not used with `loss_fn`'):
        Fitter(Quadratic(), loss_fn=quad_loss).fit(np.zeros(3))
    with pytest.raises(TypeError, match='needs a `target`'):
        Fitter(Quadratic(), predict=lambda m: m.p.value()).fit()
    with pytest.raises(ValueError, match='n_steps'):
        Fitter(Quadratic(), loss_fn=quad_loss).fit(n_steps=0)
