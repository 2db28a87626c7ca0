"""Trust fixes of the Fitter and the objectives (issue 18, fitting part).

1. FC / FCD objectives refuse an empirical FC matrix where they expect a time series,
   and new objectives fit an FC matrix / an FCD distribution (also through the Fitter).
2. docs/fitting.md's headline example recovers the parameters it prints.
3. nevergrad: ``n_sample`` candidates per generation (default 16 with ``optimizer=None``).
4. callbacks get one ``info`` dict and can stop the fit (old three-argument ones still work).
5. bad inputs: inf in the target, an objective returning None, CMA on one value, and a
   KeyboardInterrupt that keeps the best-so-far.

Fits run on simulation-free models (programs compile in well under a second).
"""
import ast
import contextlib
import importlib.util
import io
import itertools
import pathlib
import re

import braintools
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import precision
from scipy import stats

import brainmass
from brainmass import objectives as obj
from brainmass.orchestration.fitter import Fitter


def _series(seed=0, t=300, n=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(t, n)) @ rng.normal(size=(n, n))


def _triu(m):
    return m[np.triu_indices(m.shape[0], 1)]


# ----------------------------------------------------------------------------
# 1. FC matrices and FCD distributions as targets
# ----------------------------------------------------------------------------
TS_OBJECTIVES = [
    (obj.fc_corr, (), 'fc_matrix_corr'),
    (obj.fc_corr, (True,), 'fc_matrix_corr'),
    (obj.fc_rmse, (), 'fc_matrix_corr'),
    (obj.fcd, (4, 2), 'fcd_distribution_ks'),
    (obj.fcd_ks, (4, 2), 'fcd_distribution_ks'),
    (obj.fcd_wasserstein, (4, 2), 'fcd_distribution_ks'),
]


@pytest.mark.parametrize('builder,args,use', TS_OBJECTIVES, ids=lambda v: getattr(v, '__name__', None))
def test_time_series_objectives_refuse_an_fc_matrix_target(builder, args, use):
    """fc_corr()(ts, FC) used to read the (N, N) FC as N samples and return a plausible 0.94."""
    x = _series()
    fc = np.corrcoef(x.T)
    with pytest.raises(ValueError, match=rf'`target`.*\(6, 6\).*FC/FCD matrix.*{use}'):
        builder(*args)(x, fc)
    zero_diag = fc - np.eye(6)  # an FC with its diagonal zeroed is refused too
    with pytest.raises(ValueError, match='`target`'):
        builder(*args)(x, zero_diag)


def test_a_time_series_with_as_many_samples_as_regions_is_still_a_time_series():
    x, y = _series(0, t=6), _series(1, t=6)  # T == N, a legitimate (short) series
    ref = np.corrcoef(_triu(np.corrcoef(x.T)), _triu(np.corrcoef(y.T)))[0, 1]
    assert float(obj.fc_corr()(x, y)) == pytest.approx(ref, abs=1e-5)
    assert np.isfinite(float(obj.fc_rmse()(x, y)))
    assert float(obj.fc_corr()(x, np.ones((6, 6)))) == 0.  # constant series: FC 0, not refused


@pytest.mark.parametrize('bits', [32, 64])
def test_fc_matrix_objectives_match_numpy(bits):
    with precision(bits):
        x, data = _series(0), _series(1, t=500)
        fc = np.corrcoef(data.T)
        ref_r = np.corrcoef(_triu(np.corrcoef(x.T)), _triu(fc))[0, 1]
        ref_rmse = np.sqrt(np.mean((_triu(np.corrcoef(x.T)) - _triu(fc)) ** 2))
        tol = 1e-5 if bits == 32 else 1e-12
        r = obj.fc_matrix_corr()(x, fc)
        assert r.dtype == (jnp.float32 if bits == 32 else jnp.float64)
        assert float(r) == pytest.approx(ref_r, abs=tol)
        assert float(obj.fc_matrix_corr(as_loss=True)(x, fc)) == pytest.approx(1 - ref_r, abs=tol)
        assert float(obj.fc_matrix_rmse()(x, fc)) == pytest.approx(ref_rmse, abs=tol)
        assert float(obj.fc_matrix_corr()(x, np.corrcoef(x.T))) == pytest.approx(1., abs=tol)
        g = jax.grad(lambda p: obj.fc_matrix_rmse()(p, fc))(jnp.asarray(x))
        assert g.shape == x.shape and bool(jnp.all(jnp.isfinite(g)))
        # traced targets (jit) and batches of predictions (vmap) work too
        assert float(jax.jit(obj.fc_matrix_corr())(x, fc)) == pytest.approx(ref_r, abs=tol)
        batch = jax.vmap(obj.fc_matrix_rmse(), in_axes=(0, None))(jnp.stack([x, data[:300]]), fc)
        assert float(batch[0]) == pytest.approx(ref_rmse, abs=tol) and batch.shape == (2,)


@pytest.mark.parametrize('bits', [32, 64])
def test_fcd_distribution_objectives_match_scipy(bits):
    with precision(bits):
        x, data = _series(0, t=200, n=4), _series(1, t=260, n=4)
        values = np.asarray(obj.fcd_distribution(data, 40, 10))
        model = np.asarray(obj.fcd_distribution(x, 40, 10))
        tol = 1e-5 if bits == 32 else 1e-12
        ks = obj.fcd_distribution_ks(40, 10)
        w1 = obj.fcd_distribution_wasserstein(40, 10)
        assert float(ks(x, values)) == pytest.approx(stats.ks_2samp(model, values).statistic, abs=tol)
        assert float(w1(x, values)) == pytest.approx(stats.wasserstein_distance(model, values), abs=tol)
        # an (W, W) FCD matrix: its upper triangle is the distribution
        k = int(round((1 + np.sqrt(1 + 8 * values.size)) / 2))
        mat = np.eye(k)
        mat[np.triu_indices(k, 1)] = values
        mat = mat + np.triu(mat, 1).T
        assert float(w1(x, mat)) == pytest.approx(float(w1(x, values)), abs=tol)
        assert float(ks(x, model)) == 0.
        g = jax.grad(lambda p: w1(p, values))(jnp.asarray(x))
        assert bool(jnp.all(jnp.isfinite(g))) and float(jnp.abs(g).max()) > 0


def test_distribution_distances_keep_float64():
    """ks_distance / wasserstein_1d of unequal samples divided int32 counts in float32 even under x64."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=253), rng.normal(0.3, 1.2, size=136)
    with precision(64):
        ks, w1 = obj.ks_distance(a, b), obj.wasserstein_1d(a, b)
        assert ks.dtype == jnp.float64 and w1.dtype == jnp.float64
        assert float(ks) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-13)
        assert float(w1) == pytest.approx(stats.wasserstein_distance(a, b), abs=1e-13)
        assert float(obj.ks_distance(a, a[::-1])) == 0.


def test_new_objectives_refuse_bad_targets_naming_target():
    x = _series()
    fc = np.corrcoef(x.T)
    for f in (obj.fc_matrix_corr(), obj.fc_matrix_rmse()):
        with pytest.raises(ValueError, match=r'`target`.*\(N, N\).*\(300, 6\).*fc_corr'):
            f(x, x)                      # a time series where the FC matrix belongs
        with pytest.raises(ValueError, match=r'`target` is the FC of 5 regions.*6 regions'):
            f(x, fc[:5, :5])
        bad = fc.copy()
        bad[0, 1] += 0.3
        with pytest.raises(ValueError, match=r'`target`.*symmetric.*target\[0, 1\]'):
            f(x, bad)
        with pytest.raises(ValueError, match=r'`target`.*\[-1, 1\]'):
            f(x, 2 * fc)
        bad = fc.copy()
        bad[2, 3] = bad[3, 2] = np.inf
        with pytest.raises(ValueError, match='`target` contains 2 inf'):
            f(x, bad)
    for f in (obj.fcd_distribution_ks(20, 10), obj.fcd_distribution_wasserstein(20, 10)):
        with pytest.raises(ValueError, match=r'`target`.*FCD values.*\(300, 6\).*fcd_ks'):
            f(x, x)
        with pytest.raises(ValueError, match=r'`target`.*\[-1, 1\]'):
            f(x, np.array([0.2, 1.5]))
        with pytest.raises(ValueError, match='NaN'):
            f(x, np.array([0.2, np.nan]))


def test_new_objectives_are_exported_and_marked_for_the_fitter():
    import brainmass.objectives as public
    for name in ('fc_matrix_corr', 'fc_matrix_rmse', 'fcd_distribution_ks', 'fcd_distribution_wasserstein'):
        assert name in public.__all__ and getattr(brainmass.objectives, name) is getattr(public, name)
    assert obj.fc_matrix_corr().higher_is_better and not obj.fc_matrix_corr(as_loss=True).higher_is_better
    assert obj.fc_matrix_rmse().target_kind == 'fc_matrix' and obj.fc_matrix_rmse().time_flexible
    assert obj.fcd_distribution_ks().target_kind == 'fcd'
    assert obj.fc_corr().higher_is_better and obj.fc_rmse().target_kind == 'timeseries'
    assert not obj.timeseries_rmse().time_flexible and obj.fcd_ks().time_flexible
    both = obj.combine((1., obj.fc_matrix_corr(as_loss=True)), (0.5, obj.fc_matrix_rmse()))
    assert both.target_kind == 'fc_matrix' and not both.higher_is_better
    with pytest.raises(ValueError, match='different kinds of target'):
        obj.combine((1., obj.fc_matrix_rmse()), (1., obj.fc_rmse()))


class Mixing(brainstate.nn.Module):
    """A simulation-free 'model': region 1 mixes in c times region 0, so FC(0, 1) grows with c."""

    def __init__(self, c=0.2):
        super().__init__()
        self.c = brainstate.nn.Param(c, t=brainstate.nn.SigmoidT(0., 2.))


NOISE = np.random.default_rng(5).normal(size=(400, 3)).astype(np.float32)


def mixed(model):
    c = model.c.value()
    z = jnp.asarray(NOISE)
    return jnp.stack([z[:, 0], c * z[:, 0] + z[:, 1], z[:, 2] + 0.5 * z[:, 1]], axis=1)


@pytest.mark.parametrize('name', ['fc_matrix_rmse', 'fc_matrix_corr'])
def test_fitter_fits_an_empirical_fc_matrix(name):
    objective = obj.fc_matrix_rmse() if name == 'fc_matrix_rmse' else obj.fc_matrix_corr(as_loss=True)
    fc_data = np.corrcoef(np.asarray(mixed(Mixing(0.8))).T)  # (3, 3) "empirical" FC at c = 0.8
    model = Mixing(0.2)
    result = Fitter(model, braintools.optim.Adam(lr=0.1), predict=mixed, objective=objective).fit(fc_data, 150)
    assert float(result.best_params['c']) == pytest.approx(0.8, abs=0.01), result
    assert result.best_loss < 1e-3


def test_fitter_fits_an_empirical_fcd_distribution_with_nevergrad():
    values = obj.fcd_distribution(mixed(Mixing(0.8)), 40, 20)
    fitter = Fitter(Mixing(0.2), {'n_sample': 8}, predict=mixed, backend='nevergrad',
                    objective=obj.fcd_distribution_wasserstein(40, 20))
    result = fitter.fit(values, n_steps=15)
    assert float(result.best_params['c']) == pytest.approx(0.8, abs=0.1), result


def test_fitter_refuses_an_fc_matrix_for_a_time_series_objective_before_predicting():
    calls = []

    def predict(model):
        calls.append(1)
        return mixed(model)

    fc_data = np.corrcoef(np.asarray(mixed(Mixing(0.8))).T)
    fitter = Fitter(Mixing(0.2), predict=predict, objective=obj.fc_corr(as_loss=True))
    with pytest.raises(ValueError, match='`target`.*FC/FCD matrix.*fc_matrix_corr'):
        fitter.fit(fc_data, n_steps=2)
    both = obj.combine((1., obj.fc_rmse()), (1., obj.fcd_wasserstein(40, 20)))
    with pytest.raises(ValueError, match='`target`.*FC/FCD matrix'):
        Fitter(Mixing(0.2), predict=predict, objective=both).fit(fc_data, n_steps=2)
    assert calls == []
    # a similarity inside combine() with a positive weight would be maximised the wrong way round
    with pytest.raises(ValueError, match=r'term 0 \(fc_matrix_corr\).*similarity.*as_loss=True'):
        Fitter(Mixing(), predict=mixed, objective=obj.combine((1., obj.fc_matrix_corr()), (1., obj.fc_matrix_rmse())))
    with pytest.raises(ValueError, match=r'fc_matrix_corr\(\) is a similarity'):
        Fitter(Mixing(), predict=mixed, objective=obj.fc_matrix_corr())
    Fitter(Mixing(), predict=mixed, objective=obj.combine((-1., obj.fc_matrix_corr()), (1., obj.fc_matrix_rmse())))


# ----------------------------------------------------------------------------
# 2. the documented example fits
# ----------------------------------------------------------------------------
def _docs_page(name):
    """The docs page of the brainmass being tested (so an old checkout is tested with its own docs)."""
    return pathlib.Path(brainmass.__file__).parents[1] / 'docs' / name


_NUMBER = re.compile(r'-?\d+(?:\.\d+)?(?:e[-+]?\d+)?')


def _same_output(printed, shown):
    """Printed and documented lines agree: the same words, numbers within 2 % or 5e-4."""
    if _NUMBER.sub('#', printed).split() != _NUMBER.sub('#', shown).split():
        return False
    pairs = zip(map(float, _NUMBER.findall(printed)), map(float, _NUMBER.findall(shown)))
    return all(abs(a - b) <= max(5e-4, 0.02 * abs(b)) for a, b in pairs)


def _run_page_checking_outputs(page):
    """Run every python block of ``page`` in one namespace, statement by statement; where a
    statement prints and comment lines follow it, they must show what it printed. Returns the
    printed lines."""
    from test_docs_examples import python_blocks
    namespace, out = {'__name__': '__docs__'}, []
    for first, code in python_blocks(page):
        lines = code.splitlines()
        for statement in ast.parse(code).body:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(ast.Module(body=[statement], type_ignores=[]), str(page), 'exec'), namespace)
            printed = [ln for ln in buffer.getvalue().splitlines() if ln.strip()]
            shown = list(itertools.takewhile(lambda ln: ln.startswith('# '), lines[statement.end_lineno:]))
            if printed and shown:
                where = f'{page.name}:{first + statement.lineno - 1}'
                assert len(printed) == len(shown) and all(map(_same_output, printed, [x[2:] for x in shown])), \
                    f'{where} prints {printed} but the page shows {shown}'
            out += printed
    return out


def test_fitting_docs_examples_reach_the_results_they_show(monkeypatch, tmp_path):
    """Every example of docs/fitting.md prints what the page shows under it (numbers within 2 % or
    5e-4), and the headline fit recovers the values that made the data (k = 0.05, a = 0.1) to 1 %."""
    monkeypatch.chdir(tmp_path)
    try:
        printed = _run_page_checking_outputs(_docs_page('fitting.md'))
    finally:
        brainstate.environ.set(dt=0.1 * u.ms, precision=32)
    fitted = [re.fullmatch(r'k = ([\d.]+), a = ([\d.]+)', line) for line in printed]
    fitted = [m for m in fitted if m]
    assert fitted, 'the headline example must print the fitted "k = ..., a = ..."'
    k, a = map(float, fitted[0].groups())
    assert k == pytest.approx(0.05, rel=0.01) and a == pytest.approx(0.1, rel=0.01)


# ----------------------------------------------------------------------------
# 3. nevergrad: n_sample candidates per generation
# ----------------------------------------------------------------------------
class Quadratic(brainstate.nn.Module):
    def __init__(self, p0=0.5, q0=1.0, q=True):
        super().__init__()
        self.p = brainstate.nn.Param(p0, t=brainstate.nn.SigmoidT(0., 4.))
        if q:
            self.q = brainstate.nn.Param(jnp.full(2, q0), t=brainstate.nn.SigmoidT(-5., 5.))


def quad_loss(m):
    loss = (m.p.value() - 3.) ** 2
    if hasattr(m, 'q'):
        loss = loss + jnp.sum((m.q.value() - jnp.array([-1., 2.])) ** 2)
    return loss


def rosen_loss(m):
    """A curved valley in q (Rosenbrock): every back end needs many steps (min 0 at p = 3, q = (1, 1))."""
    q = m.q.value()
    return (m.p.value() - 3.) ** 2 + 100. * (q[1] - q[0] ** 2) ** 2 + (1. - q[0]) ** 2


@pytest.mark.parametrize('optimizer,n_sample', [({'n_sample': 5}, 5), (None, 16), ({'popsize': 6}, 6),
                                                ({'method': 'CMA', 'n_sample': 7}, 7)])
def test_nevergrad_evaluates_n_sample_candidates_per_generation(optimizer, n_sample):
    seen = []
    fitter = Fitter(Quadratic(), optimizer, loss_fn=quad_loss, backend='nevergrad',
                    callbacks=lambda info: seen.append(info['n_evaluations']))
    assert fitter.optimizer['n_sample'] == n_sample and 'popsize' not in fitter.optimizer
    if optimizer is None:
        assert fitter.optimizer == {'method': 'DE', 'n_sample': 16, 'seed': 0}
    result = fitter.fit(n_steps=4)
    assert seen == [n_sample * g for g in range(1, 5)]
    assert result.n_evaluations == 4 * n_sample and result.raw.num_tell == 4 * n_sample


def test_nevergrad_n_sample_errors():
    with pytest.raises(ValueError, match="both 'n_sample'.*'popsize'"):
        Fitter(Quadratic(), {'n_sample': 4, 'popsize': 8}, loss_fn=quad_loss, backend='nevergrad')
    with pytest.raises(ValueError, match=r"optimizer\['n_sample'\]"):
        Fitter(Quadratic(), {'n_sample': 1}, loss_fn=quad_loss, backend='nevergrad')
    with pytest.raises(TypeError, match="'n_sample'"):
        Fitter(Quadratic(), {'n_samples': 4}, loss_fn=quad_loss, backend='nevergrad')


# ----------------------------------------------------------------------------
# 4. callbacks: one info dict; True stops; the old form still works
# ----------------------------------------------------------------------------
BACKENDS = [('grad', lambda: braintools.optim.Adam(lr=0.1)), ('nevergrad', lambda: {'n_sample': 4}),
            ('scipy', lambda: 'L-BFGS-B')]  # a fresh optimizer per fit


@pytest.mark.parametrize('backend,optimizer', BACKENDS, ids=[b for b, _ in BACKENDS])
def test_callbacks_get_one_info_dict_and_true_stops(backend, optimizer):
    infos = []

    def cb(info):
        infos.append(info)
        return info['step'] == 3

    model = Quadratic(q0=-0.5)
    result = Fitter(model, optimizer(), loss_fn=rosen_loss, backend=backend, callbacks=cb).fit(n_steps=50)
    assert [i['step'] for i in infos] == [1, 2, 3]
    assert result.n_steps == 3 and result.stop_reason == 'callback' and len(result.history) == 3
    last = infos[-1]
    assert {'step', 'loss', 'params', 'best_loss', 'best_params', 'n_evaluations', 'backend'} <= set(last)
    assert last['backend'] == backend and set(last['params']) == {'p', 'q'}
    assert last['best_loss'] == result.best_loss
    assert float(last['best_params']['p']) == pytest.approx(float(result.best_params['p']), rel=1e-6)
    if backend != 'nevergrad':  # 'loss' and 'params' belong together
        m = Quadratic(float(last['params']['p']), 0.)
        m.q.set_value(last['params']['q'])
        assert float(rosen_loss(m)) == pytest.approx(last['loss'], rel=1e-4)


@pytest.mark.parametrize('backend,optimizer', BACKENDS, ids=[b for b, _ in BACKENDS])
def test_three_argument_callbacks_still_work_with_a_deprecation_warning(backend, optimizer):
    seen = []
    with pytest.warns(DeprecationWarning, match=r'cb\(step, loss, params\) is deprecated'):
        fitter = Fitter(Quadratic(), optimizer(), loss_fn=rosen_loss, backend=backend,
                        callbacks=lambda step, loss, params: seen.append((step, loss, set(params))) or step >= 2)
    result = fitter.fit(n_steps=50)
    assert [s for s, _, _ in seen] == [1, 2] and result.n_steps == 2
    assert all(isinstance(loss, float) and keys == {'p', 'q'} for _, loss, keys in seen)


def test_a_callback_with_another_signature_is_a_type_error():
    with pytest.raises(TypeError, match=r'callback.*one argument.*info'):
        Fitter(Quadratic(), loss_fn=rosen_loss, callbacks=lambda a, b: None)
    with pytest.raises(TypeError, match='callbacks'):
        Fitter(Quadratic(), loss_fn=rosen_loss, callbacks=[print, 3])


# ----------------------------------------------------------------------------
# 5. bad inputs
# ----------------------------------------------------------------------------
def test_inf_in_the_target_is_refused_naming_target():
    calls = []

    def predict(model):
        calls.append(1)
        return mixed(model)

    target = np.zeros((400, 3))
    target[7, 2] = -np.inf
    with pytest.raises(ValueError, match=r'`target` contains 1 inf value\(s\) \(first at index \(7, 2\)\)'):
        Fitter(Mixing(), predict=predict).fit(target, n_steps=2)
    assert calls == []


def test_an_objective_or_loss_fn_returning_none_is_a_type_error_naming_it():
    def my_objective(prediction, target):
        jnp.mean((prediction - target) ** 2)  # forgot the return

    with pytest.raises(TypeError, match=r'objective my_objective\(prediction, target\) returned None'):
        Fitter(Mixing(), predict=mixed, objective=my_objective).fit(np.zeros((400, 3)), n_steps=2)

    def my_loss(model):
        quad_loss(model)

    with pytest.raises(TypeError, match=r'`loss_fn` my_loss\(model\) returned None'):
        Fitter(Quadratic(), loss_fn=my_loss).fit(n_steps=2)


def test_nevergrad_cma_fits_a_single_parameter():
    """nevergrad's CMA needs the optional fcmaes package in 1-D; the Fitter runs it without."""
    model = Quadratic(q=False)
    result = Fitter(model, 'CMA', loss_fn=quad_loss, backend='nevergrad').fit(n_steps=15)
    assert float(result.best_params['p']) == pytest.approx(3., abs=0.05), result
    assert result.n_evaluations == 15 * 16
    assert float(quad_loss(model)) == pytest.approx(result.best_loss, rel=1e-5, abs=1e-7)
    if importlib.util.find_spec('fcmaes') is None:  # a method that always needs it: a clear error, at once
        with pytest.raises(ImportError, match=r"'FCMA' cannot run.*fcmaes.*'DE'"):
            Fitter(Quadratic(), 'FCMA', loss_fn=quad_loss, backend='nevergrad')


class Interrupt:
    """A callback that raises KeyboardInterrupt at step 3 (as Ctrl-C would) after recording the losses."""

    def __init__(self):
        self.best, self.fired = [], False

    def __call__(self, info):
        self.best.append(info['best_loss'])
        if info['step'] == 3 and not self.fired:
            self.fired = True
            raise KeyboardInterrupt


@pytest.mark.parametrize('backend,optimizer', BACKENDS, ids=[b for b, _ in BACKENDS])
def test_keyboard_interrupt_keeps_the_best_so_far(backend, optimizer):
    model, cb = Quadratic(q0=-0.5), Interrupt()
    fitter = Fitter(model, optimizer(), loss_fn=rosen_loss, backend=backend, callbacks=cb)
    with pytest.raises(KeyboardInterrupt):
        fitter.fit(n_steps=50)
    partial = fitter.result
    assert partial is not None and partial.stop_reason == 'interrupted'
    assert partial.n_steps == 3 and len(partial.history) == 3
    assert partial.best_loss == cb.best[-1] < float(rosen_loss(Quadratic(q0=-0.5)))
    # the model holds the best parameters, which give the best loss
    assert float(rosen_loss(model)) == pytest.approx(partial.best_loss, rel=1e-5)
    assert float(model.p.value()) == float(partial.best_params['p'])
    assert fitter.evaluate()[0] == pytest.approx(partial.best_loss, rel=1e-6)
    # a later, complete fit replaces it
    assert fitter.fit(n_steps=2) is fitter.result and fitter.result.stop_reason is None
