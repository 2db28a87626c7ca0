"""Trust fixes in observation, datasets, viz and the public names (issue 18, data/obs part)."""
import re

import matplotlib

matplotlib.use('Agg')

import brainstate  # noqa: E402
import brainunit as u  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _helpers import tvb_txt, write_zip, x64  # noqa: E402, F401 (x64: a fixture)

import brainmass  # noqa: E402
from brainmass import datasets, viz  # noqa: E402
from brainmass.observation import (EEGLeadFieldModel, LeadFieldModel, LeadfieldReadout,  # noqa: E402
                                   MEGLeadFieldModel)

W = np.array([[0., 1., 2.], [1., 0., 3.], [2., 3., 0.]])
NAM = u.nA * u.meter


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close('all')


# ----------------------------------------------------------------------------
# 1. plot_power_spectrum: frequency resolution from the signal, peak labelled
# ----------------------------------------------------------------------------

def _alpha(freq=10.9, seconds=2.0, dt_s=1e-4):
    t = np.arange(int(round(seconds / dt_s))) * dt_s
    return np.sin(2 * np.pi * freq * t)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _hz(text):
    return float(re.search(r'([\d.]+) Hz', text).group(1))


def test_power_spectrum_resolves_alpha_sampled_every_step():
    ax = viz.plot_power_spectrum(_alpha(), 0.1 * u.ms)     # 2 s recorded every 0.1 ms
    f, p = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    assert abs(f[np.argmax(p)] - 10.9) <= 0.5
    assert np.allclose(np.diff(f), 0.5)
    bin_text, peak_text = _texts(ax)
    assert bin_text == 'bin width 0.5 Hz'
    assert abs(_hz(peak_text) - 10.9) < 0.1


def test_power_spectrum_resolution_and_nperseg():
    x = _alpha(seconds=4.0)
    ax = viz.plot_power_spectrum(x, 0.1 * u.ms, resolution=1 * u.Hz, loglog=False)
    assert np.allclose(np.diff(ax.lines[0].get_xdata()), 1.0) and _texts(ax)[0] == 'bin width 1 Hz'
    ax = viz.plot_power_spectrum(x, 0.1 * u.ms, resolution=0.25)          # plain numbers are Hz
    assert _texts(ax)[0] == 'bin width 0.25 Hz' and abs(_hz(_texts(ax)[1]) - 10.9) < 0.1
    ax = viz.plot_power_spectrum(x, 0.1 * u.ms, nperseg=5000, annotate_peak=False)
    assert _texts(ax) == ['bin width 2 Hz']
    with pytest.raises(ValueError, match='`resolution`.*longer signal'):
        viz.plot_power_spectrum(x, 0.1 * u.ms, resolution=0.1 * u.Hz)
    with pytest.raises(ValueError, match='`resolution` must be a frequency'):
        viz.plot_power_spectrum(x, 0.1 * u.ms, resolution=1 * u.ms)
    with pytest.raises(ValueError, match='not both'):
        viz.plot_power_spectrum(x, 0.1 * u.ms, resolution=1 * u.Hz, nperseg=100)
    with pytest.raises(TypeError, match='`nperseg`'):
        viz.plot_power_spectrum(x, 0.1 * u.ms, nperseg=100.5)
    with pytest.raises(ValueError, match='`signal` must be finite'):
        viz.plot_power_spectrum(np.r_[x[:10], np.nan], 0.1 * u.ms)


# ----------------------------------------------------------------------------
# 2. loaders name the bad argument
# ----------------------------------------------------------------------------

@pytest.mark.parametrize('bad', [5, 3.5, b'conn.npz', ['conn.npz'], np.eye(3)])
def test_load_connectome_path_type_is_named(bad):
    with pytest.raises(TypeError, match=r'`path` must be a file path.*str.*PathLike.*\.npz'):
        datasets.load_connectome(bad)


def test_other_loader_arguments_are_named(tmp_path):
    with pytest.raises(TypeError, match='`name` must be a str'):
        datasets.load_connectome(weights=W, name=5)
    with pytest.raises(TypeError, match='`seed`'):
        datasets.delayed_match_task(4, seed='a')
    with pytest.raises(ValueError, match='`seed`'):
        datasets.delayed_match_task(4, seed=-1)
    with pytest.raises(TypeError, match='`seed`'):
        datasets.process_sequence(np.zeros((2, 3, 3)), mode='permuted_pixels', seed=1.5)
    with pytest.raises(TypeError, match='`data` must be a numeric array'):
        datasets.process_sequence('abc')
    assert datasets.process_sequence([[1., 2., 3.]]).shape == (3, 1, 1)    # a nested list is an array
    with pytest.raises(TypeError, match='`dt` must be a time step'):
        datasets.Signal(np.zeros((3, 2)), dt='x')
    with pytest.raises(TypeError, match='`path` must be a file path'):
        datasets.Connectome(W).save(5)


# ----------------------------------------------------------------------------
# 3. a TVB zip with two subjects is refused, not mixed
# ----------------------------------------------------------------------------

def test_tvb_zip_with_two_subjects_is_refused(tmp_path):
    z = write_zip(tmp_path / 'two.zip', {'subjA/weights.txt': tvb_txt(W), 'subjA/tract_lengths.txt': tvb_txt(W * 10),
                                         'subjB/weights.txt': tvb_txt(W * 2), 'subjB/tract_lengths.txt': tvb_txt(W)})
    with pytest.raises(ValueError, match=r"two\.zip.*subjA/weights\.txt.*subjB/weights\.txt"):
        datasets.load_connectome(z)


@pytest.mark.parametrize('files', [
    {'weights.txt': tvb_txt(W), 'subjB/tract_lengths.txt': tvb_txt(W)},                     # files from two folders
    {'s/weights.txt': tvb_txt(W), 's/tract_lengths.txt': tvb_txt(W), 's/distances.txt': tvb_txt(W)},  # both spellings
])
def test_tvb_zip_with_mixed_members_is_refused(tmp_path, files):
    with pytest.raises(ValueError, match='conflict'):
        datasets.load_connectome(write_zip(tmp_path / 'mixed.zip', files))


def test_tvb_zip_one_subject_still_loads(tmp_path):
    z = write_zip(tmp_path / 'one.zip', {'subjA/weights.txt': tvb_txt(W), 'subjA/tract_lengths.txt': tvb_txt(W * 10),
                                         'subjA/centres.txt': 'a 0 0 0\nb 1 0 0\nc 0 1 0\n', 'README': 'x'})
    conn = datasets.load_connectome(z)
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_array_equal(u.get_magnitude(conn.distances), W * 10)
    assert list(conn.labels) == ['a', 'b', 'c']


# ----------------------------------------------------------------------------
# 4. / 5. lead fields: finite L, brainstate's in_size forms
# ----------------------------------------------------------------------------

@pytest.mark.parametrize('cls', [LeadFieldModel, EEGLeadFieldModel])
@pytest.mark.parametrize('bad', [np.nan, np.inf])
def test_leadfield_non_finite_L_is_refused(cls, bad, x64):
    L = np.ones((3, 2))
    L[1, 0] = bad
    with pytest.raises(ValueError, match='`L` of .*LeadFieldModel must be finite'):
        cls(3, 2, L)
    with pytest.raises(ValueError, match='`L`.*finite'):
        cls(3, 2, L * u.uvolt / NAM)
    with pytest.raises(ValueError, match='`L`.*finite'):
        cls(3, 2, brainstate.nn.Param(jnp.asarray(L)))
    with pytest.raises(ValueError, match='`lm`.*finite'):
        LeadfieldReadout(L, 1., 0.)


def test_leadfield_in_size_tuple(x64):
    L = jnp.arange(6.).reshape(3, 2)
    x = jnp.array([1., 2., 3.])
    ref = LeadFieldModel(3, 2, L)(x)
    for cls in (LeadFieldModel, EEGLeadFieldModel):
        y = cls((3,), (2,), L)(x)
        assert y.shape == (2,)
        np.testing.assert_allclose(u.get_magnitude(y), u.get_magnitude(ref))
    meg = MEGLeadFieldModel([3], 2, L * u.ftesla / NAM, sensor_unit=u.ftesla)
    assert meg.n_regions == 3 and meg(x).shape == (2,)
    with pytest.raises(ValueError, match='`in_size` of a lead field.*1-tuple'):
        LeadFieldModel((3, 2), 2, L)
    with pytest.raises(ValueError, match='`out_size`'):
        LeadFieldModel(3, (0,), L)
    assert tuple(brainmass.BOLDSignal(in_size=(3,)).varshape) == (3,)


# ----------------------------------------------------------------------------
# 6. brainmass.__all__
# ----------------------------------------------------------------------------

API_NAMES = [
    # models (API.md table) and the registry
    'HopfStep', 'StuartLandauStep', 'VanDerPolStep', 'FitzHughNagumoStep', 'MontbrioPazoRoxinStep',
    'CoombesByrneStep', 'LarterBreakspearStep', 'EpileptorStep', 'Generic2dOscillatorStep', 'WongWangStep',
    'WongWangExcInhStep', 'LorenzStep', 'LinearStep', 'ThresholdLinearStep', 'KuramotoNetwork',
    'JansenRitStep', 'JansenRitTR', 'WilsonCowanStep', 'WilsonCowanNoSaturationStep',
    'WilsonCowanSymmetricStep', 'WilsonCowanSimplifiedStep', 'WilsonCowanLinearStep', 'WilsonCowanLogisticStep',
    'WilsonCowanDivisiveStep', 'WilsonCowanDivisiveInputStep', 'WilsonCowanDelayedStep',
    'WilsonCowanAdaptiveStep', 'WilsonCowanThreePopulationStep', 'HORNStep', 'HORNSeqLayer',
    'HORNSeqNetwork', 'list_models', 'ModelInfo',
    # couplings
    'DiffusiveCoupling', 'AdditiveCoupling', 'SigmoidalCoupling', 'HyperbolicTangentCoupling',
    'SigmoidalJansenRitCoupling', 'diffusive_coupling', 'additive_coupling', 'sigmoidal_coupling',
    'hyperbolic_tangent_coupling', 'sigmoidal_jansen_rit_coupling', 'delay_index',
    'laplacian_connectivity', 'LaplacianConnParam',
    # noise
    'Noise', 'OUProcess', 'GaussianNoise', 'WhiteNoise', 'BrownianNoise', 'ColoredNoise', 'PinkNoise',
    'BlueNoise', 'VioletNoise',
    # observation
    'BOLDSignal', 'HRFKernel', 'FirstOrderVolterraHRFKernel', 'GammaHRFKernel', 'DoubleExponentialHRFKernel',
    'MixtureOfGammasHRFKernel', 'TemporalAverage', 'HRFBold', 'LeadFieldModel', 'EEGLeadFieldModel',
    'MEGLeadFieldModel', 'LeadfieldReadout',
    # orchestration, data, utilities
    'Simulator', 'Network', 'Fitter', 'FitResult', 'objectives', 'datasets', 'viz',
    'sys2nd', 'sigmoid', 'bounded_input', 'process_sequence', '__version__',
]


def test_all_lists_every_public_name():
    names = brainmass.__all__
    assert len(names) == len(set(names))
    assert [n for n in names if not hasattr(brainmass, n)] == []
    star = {}
    exec('from brainmass import *', star)     # noqa: S102
    assert [n for n in names if n not in star] == []
    assert [n for n in API_NAMES if n not in names] == []
    import types
    public = [n for n, v in vars(brainmass).items()
              if not n.startswith('_') and not isinstance(v, types.ModuleType)]
    assert [n for n in public if n not in names] == []
