"""The model registry (list_models, models_table) and the deprecated names of earlier releases."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass._core.step import MODEL_REGISTRY
from brainmass.models import legacy
from brainmass.models.registry import ModelInfo, list_models, load_all_models, model_details, models_table
from brainmass.models.wong_wang import WongWangExcInhStep

from _helpers import mag


def old(name):
    """The deprecated ``brainmass.<name>``."""
    return getattr(brainmass, name)


# ----------------------------------------------------------------- registry
def test_list_models_covers_every_registered_model():
    load_all_models()
    infos = list_models()
    assert all(isinstance(m, ModelInfo) for m in infos)
    names = {m.name for m in infos}
    assert set(MODEL_REGISTRY) <= names
    for m in infos:
        cls = MODEL_REGISTRY.get(m.name)
        if cls is not None:
            assert m.n_state_vars == len(cls.state_vars)
            assert m.category == (cls.category or 'other')
        if m.name in MODEL_REGISTRY and MODEL_REGISTRY[m.name].__module__.startswith('brainmass.'):
            assert m.category != 'other' and m.use_case, m.name  # shipped models carry metadata
    by_name = {m.name: m for m in infos}
    assert by_name['WongWangStep'][1:3] == ('decision', 2)
    assert by_name['WongWangExcInhStep'][1:3] == ('population rate', 2)
    assert by_name['EpileptorStep'][1:3] == ('epilepsy', 6)
    assert by_name['HopfStep'][1:3] == ('oscillator', 2)
    for extra in ('KuramotoNetwork', 'HORNStep'):  # network-level models, when the package has them
        if hasattr(brainmass.models, extra):
            assert extra in names
    assert not any(name in names for name in legacy.LEGACY_NAMES)
    assert infos == sorted(infos, key=lambda m: (m.category, m.name))


def test_list_models_filters_and_renders_tables():
    assert {m.name for m in list_models(category='epilepsy')} == {'EpileptorStep'}
    table = list_models(as_table=True)
    assert isinstance(table, str) and table == models_table()
    lines = table.splitlines()
    assert lines[0].split()[:3] == ['model', 'category', 'states']
    assert len(lines) == len(list_models()) + 2
    md = models_table('markdown', details=True)
    assert md.splitlines()[0] == '| model | category | states | coupled var | use case |'
    assert '| EpileptorStep | epilepsy | x1, y1, z, x2, y2, g | x1 |' in md
    assert '| WongWangExcInhStep | population rate | S_e, S_i | S_e |' in md
    details = {r['name']: r for r in model_details()}
    assert details['HopfStep']['coupled_var'] == 'x'
    assert details['WilsonCowanStep']['coupled_var'] == 'rE'
    with pytest.raises(ValueError, match='fmt'):
        models_table('html')


def test_user_defined_models_are_listed():
    from brainmass._core.step import StepModel

    class RegistryProbeStep(StepModel):
        state_vars = ('x',)
        category = 'linear'
        use_case = 'test decay'

        def __init__(self, in_size):
            super().__init__(in_size)

        def dx(self, x, inp):
            return (-x + inp) / u.ms

    try:
        assert ModelInfo('RegistryProbeStep', 'linear', 1, 'test decay') in list_models()
    finally:
        MODEL_REGISTRY.pop('RegistryProbeStep', None)


# ------------------------------------------------------------ legacy names
def test_hopf_oscillator_snippet_from_the_network_guide():
    brainstate.environ.set(dt=0.1 * u.ms)
    N_regions = 10
    with pytest.warns(DeprecationWarning, match='HopfStep'):
        nodes = old('HopfOscillator')(in_size=N_regions, omega=2 * jnp.pi * 10 * u.Hz, a=0.1)
    assert isinstance(nodes, brainmass.HopfStep)
    assert float(nodes.w.value().to_decimal(u.kHz)) == pytest.approx(2 * np.pi * 0.01, rel=1e-6)  # rad/ms
    W = jnp.ones((N_regions, N_regions)) * 0.05
    W = W.at[jnp.diag_indices(N_regions)].set(0.)
    coupling = brainmass.DiffusiveCoupling(conn=W, k=0.2)
    nodes.init_all_states()
    coupling.init_all_states()

    def network_step(i):
        x = nodes.x.value
        coupled_input = coupling(x, x)
        output = nodes.update()
        nodes.x.value += coupled_input
        return output

    out = brainstate.transform.for_loop(network_step, jnp.arange(1000))
    assert mag(out[0]).shape == (1000, N_regions) and np.all(np.isfinite(mag(out[0])))


def test_wilson_cowan_model_is_the_step_class():
    with pytest.warns(DeprecationWarning, match='WilsonCowanStep'):
        nodes = old('WilsonCowanModel')(in_size=90)
    assert isinstance(nodes, brainmass.WilsonCowanStep) and nodes.varshape == (90,)
    with pytest.warns(DeprecationWarning):
        cortex = old('WilsonCowanModel')(in_size=4)
    brainstate.environ.set(dt=0.1 * u.ms)
    cortex.init_all_states()
    out = cortex.update(rE_inp=0.5, rI_inp=0.)
    assert mag(out).shape == (4,)


def test_wong_wang_model_resting_state_snippet():
    brainstate.environ.set(dt=1 * u.ms)
    N_regions = 6
    rng = np.random.default_rng(0)
    SC = rng.uniform(0, 1, (N_regions, N_regions))
    np.fill_diagonal(SC, 0.)
    with pytest.warns(DeprecationWarning, match='WongWangExcInhStep'):
        nodes = old('WongWangModel')(in_size=N_regions)
    assert isinstance(nodes, WongWangExcInhStep)
    coupling = brainmass.DiffusiveCoupling(conn=SC, k=0.2)
    nodes.noise_E = brainmass.OUProcess(in_size=N_regions, sigma=0.01 * u.Hz, tau=100 * u.ms)
    assert nodes.noise_E.unit == u.Hz
    nodes.init_all_states()
    coupling.init_all_states()

    def step(t):
        S_E = nodes.S_E.value
        coupled_input = coupling(S_E, S_E)
        return nodes.update(S_E_ext=coupled_input)

    neural_activity = brainstate.transform.for_loop(step, jnp.arange(300))
    act = mag(neural_activity)
    assert act.shape == (300, N_regions) and np.all(np.isfinite(act))
    assert np.all((act > 0.) & (act < 1.))
    assert not np.allclose(act[:, 0], act[:, 1])  # independent noise per region


def test_wong_wang_model_rate_noise_is_additive_on_dS_dt():
    brainstate.environ.set(dt=1 * u.ms)
    with pytest.warns(DeprecationWarning):
        clean = old('WongWangModel')(3, init_S_e=0.3)
        noisy = old('WongWangModel')(3, init_S_e=0.3,
                                     noise_E=brainmass.OUProcess(3, sigma=2. * u.Hz, tau=100 * u.ms))
    brainstate.nn.init_all_states(clean)
    brainstate.nn.init_all_states(noisy)
    clean.update()
    noisy.update()
    eta = mag(noisy.noise_E.eta.value)  # this step's OU value, in Hz
    np.testing.assert_allclose(mag(noisy.S_E.value) - mag(clean.S_E.value), eta * 1e-3, atol=1e-7)
    # dimensionless noise keeps the WongWangExcInhStep meaning (it acts on the input)
    with pytest.warns(DeprecationWarning):
        node = old('WongWangModel')(3)
    node.noise_E = brainmass.GaussianNoise(3, sigma=0.01)
    assert node.noise_S_e is node.noise_E
    # and in a Network the coupling current is the first input (S_E_ext)
    brainstate.environ.set(dt=0.1 * u.ms)
    net = brainmass.Network(node, conn=np.ones((3, 3)), coupled_var='S_e', coupling='additive', k=0.5)
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(10 * u.ms)
    assert np.all(np.isfinite(mag(res['output'])))


def test_generated_model_names_resolve_to_step_classes():
    names = legacy.legacy_names()
    assert {'HopfOscillator', 'WilsonCowanModel', 'WongWangModel', 'HopfModel', 'EpileptorModel',
            'WongWangExcInhModel'} <= set(names)
    for name in names:
        cls = old(name)
        assert cls is old(name)  # cached
        assert cls.__name__ == name
        assert name not in MODEL_REGISTRY
    with pytest.warns(DeprecationWarning, match=r'brainmass\.EpileptorStep'):
        node = old('EpileptorModel')(2, x0=-2.0)
    from brainmass.models.epileptor import EpileptorStep
    assert isinstance(node, EpileptorStep) and float(node.x0.value()) == -2.0
    with pytest.warns(DeprecationWarning, match='MontbrioPazoRoxinStep'):
        old('MontbrioPazoRoxinModel')(1)
    with pytest.raises(AttributeError):
        legacy.NoSuchThingModel
    with pytest.raises(AttributeError):
        legacy.resolve('Hopf')
    assert 'HopfOscillator' in dir(legacy)
    from brainmass.models.legacy import HopfOscillator  # from-import works through __getattr__
    assert HopfOscillator is legacy.HopfOscillator


def test_package_and_models_module_forward_deprecated_names():
    assert brainmass.HopfOscillator is brainmass.models.HopfOscillator
    assert brainmass.JansenRitModel.deprecated_alias_of == 'JansenRitStep'
    with pytest.raises(AttributeError, match="module 'brainmass' has no attribute 'NoSuchModel'"):
        brainmass.NoSuchModel
    with pytest.raises(AttributeError, match="'brainmass.models' has no attribute 'Nope'"):
        brainmass.models.Nope
