"""Small helpers shared by the test modules (imported as ``from _helpers import ...``)."""
import contextlib
import zipfile

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass


def mag(x):
    """The plain numpy magnitude of a quantity or array."""
    return np.asarray(u.get_magnitude(x))


def rhs(model, state, *inputs):
    """The model's right-hand side (per ms magnitudes) at ``state``."""
    with brainstate.environ.context(dt=0.1 * u.ms):
        brainstate.nn.init_all_states(model)
        d = model.derivative({k: jnp.asarray(v) for k, v in state.items()}, 0. * u.ms, *inputs)
    return {k: np.asarray(v.to_decimal(u.kHz)) for k, v in d.items()}


def distinct_methods():
    """Every name of brainmass.list_methods(); aliases of one scheme (heun = rk2) are run once."""
    from brainmass._core.integrators import INTEGRATORS
    seen, out = set(), []
    for m in brainmass.list_methods():
        fn = INTEGRATORS.get(m, m)
        if fn not in seen:
            seen.add(fn)
            out.append(m)
    return out


# ------------------------------------------------------------------ precision and JAX flags
@contextlib.contextmanager
def jax_flag(name, value):
    """The JAX config option ``name`` (e.g. ``'jax_enable_x64'``) set to ``value`` in the block, restored after."""
    old = getattr(jax.config, name)
    jax.config.update(name, value)
    try:
        yield
    finally:
        jax.config.update(name, old)


@contextlib.contextmanager
def precision(bits):
    """``bits = 64``: double precision in the block (JAX's x64 and brainstate's precision), 32 bits again after.

    ``bits = 32`` changes nothing (the default precision).
    """
    if bits != 64:
        yield
        return
    jax.config.update('jax_enable_x64', True)
    brainstate.environ.set(precision=64)
    try:
        yield
    finally:
        brainstate.environ.set(precision=32)
        jax.config.update('jax_enable_x64', False)


@pytest.fixture(params=[False, True], ids=['float32', 'float64'])
def x64(request):
    """Fixture (import it into the test module): the test runs with JAX's x64 off, then on; yields the flag."""
    with jax_flag('jax_enable_x64', request.param):
        yield request.param


# ------------------------------------------------------------------ connectome files
def tvb_txt(m):
    """A matrix as the text of a TVB connectivity file (rows of space-separated numbers)."""
    return '\n'.join(' '.join(f'{v:g}' for v in row) for row in m) + '\n'


def write_zip(path, files):
    """Write ``files`` (``{member name: text}``) as the zip archive ``path``; returns ``path``."""
    with zipfile.ZipFile(path, 'w') as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.fixture(autouse=True)
def close_figures(monkeypatch):
    """Autouse in the viz test modules that import it: plt.show() is an error, figures are closed after each test."""
    import matplotlib.pyplot as plt

    def _no_show(*args, **kwargs):
        raise AssertionError('viz must never call plt.show()')
    monkeypatch.setattr(plt, 'show', _no_show)
    yield
    plt.close('all')


def range_relative_error(ref, sim):
    """Largest |sim - ref['y']| per variable over the range of the reference: ``ref['y']`` is (T, n_vars, N)."""
    span = np.ptp(ref['y'], axis=(0, 2))
    return np.max(np.abs(sim - ref['y']), axis=(0, 2)) / span
