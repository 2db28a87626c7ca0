"""Float32 precision of reductions and accumulations over long signals.

Each test runs a brainmass function on float32 data and compares it with a
float64 computation on the same (float32-rounded) data: scipy, or the same
function under ``jax.enable_x64``. The bounds sit well above what a float32
computation can reach (~1e-7 relative) and well below what the old code gave
(quoted in each test).
"""
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal

from brainmass.analysis import welch_psd
from brainmass.observation import BOLDSignal


@pytest.mark.parametrize('as_jax', [False, True], ids=['numpy', 'jax'])
def test_welch_psd_of_a_series_with_a_large_offset_is_float32_accurate_in_every_bin(as_jax):
    # 1000 + noise: each segment's float32 mean was ~1000 eps off and leaked into the 0 Hz and first
    # bins (7.7e-4 relative here, 4e-5 on 600,000 samples); centring the series first gives ~2e-7
    x = (1000. + np.random.default_rng(0).normal(size=(20_000, 2))).astype(np.float32)
    freqs, psd = welch_psd(jnp.asarray(x) if as_jax else x, 1 * u.ms, nperseg=1000)
    _, ref = scipy.signal.welch(x.astype(np.float64), fs=1000., nperseg=1000, axis=0)
    psd = np.asarray(psd.mantissa)
    assert psd.dtype == np.float32
    err = np.abs(psd - ref) / ref
    assert err.max() < 3e-6, (err.max(), np.unravel_index(err.argmax(), err.shape))


def _drive(n_steps, dt_ms, level):
    """A non-negative drive: ``level`` plus a slow oscillation and noise, both of ``level``'s size or 0.02."""
    t = np.arange(n_steps) * dt_ms * 1e-3
    a = max(level, 0.02)
    wave = 0.5 * a * (1 + np.sin(2 * np.pi * 0.1 * t))[:, None] * np.array([1., 0.5])
    return (level + wave + 0.2 * a * np.random.default_rng(1).uniform(size=(n_steps, 2))).astype(np.float32)


def _float64_bold(z, dt_ms):
    """The same BOLDSignal on the float32 drive, integrated in float64."""
    with jax.enable_x64(True):
        return np.asarray(BOLDSignal(2).simulate(jnp.asarray(z, jnp.float64), dt_ms))


@pytest.mark.parametrize('level', [0., 0.7])
def test_balloon_windkessel_over_many_small_steps_is_float32_accurate(level):
    # 20,000 steps of 0.1 ms: f, v, q near 1 (level 0) or near a steady level took each step's small
    # change only to their float32 spacing; the BOLD was 4.1e-2 (level 0) / 1.0e-4 (level 0.7) of its
    # peak off (now ~8e-7)
    z = _drive(20_000, 0.1, level)
    y = np.asarray(BOLDSignal(2).simulate(z, 0.1))
    assert y.dtype == np.float32
    ref = _float64_bold(z, 0.1)
    err = np.abs(y - ref).max() / np.abs(ref).max()
    assert err < 1e-5, err


def test_balloon_windkessel_stepped_update_is_float32_accurate_and_keeps_the_residuals():
    # the monitor path (update every step), the same accumulation through the module's states: 4.1e-2 before
    z = _drive(20_000, 0.1, 0.)
    bold = BOLDSignal(2)
    bold.init_state()
    with brainstate.environ.context(dt=0.1 * u.ms):
        y = np.asarray(brainstate.transform.for_loop(bold.update, jnp.asarray(z)))
    ref = _float64_bold(z, 0.1)
    err = np.abs(y - ref).max() / np.abs(ref).max()
    assert err < 1e-5, err
    # the residuals hold what f, v, q cannot: below half their float spacing, and reset to 0
    for name in 'fvq':
        value, residual = np.asarray(getattr(bold, name).value), np.asarray(getattr(bold, f'{name}_residual').value)
        assert np.all(np.abs(residual) <= 0.5 * np.spacing(value))
    bold.reset_state()
    assert all(np.all(np.asarray(getattr(bold, f'{n}_residual').value) == 0.) for n in 'fvq')
