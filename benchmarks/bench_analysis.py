"""Speed of ``brainmass.analysis`` against numpy / scipy on a (T = 10^5, N = 76) series.

Workload: ``x`` of shape (100000, 76), float32, 76 noisy oscillators (8-12 Hz sines
plus white noise) sampled at dt = 1 ms (100 s). Both sides get the same float32
array (numpy's ``corrcoef`` computes in float64 by itself; scipy keeps float32).

Each brainmass function is wrapped in ``jax.jit`` (settings closed over, the series
the only argument), compiled and run once as a warm-up; then both sides are timed
in alternation, ``--repeats`` rounds, and the median of each is reported with the
ratio ours / reference (< 1: brainmass is faster). Rows:

* ``fc``: ``np.corrcoef(x.T)``;
* ``fcd`` (window 2000, step 1000 samples): a Python loop of ``np.corrcoef`` per
  window, then ``np.corrcoef`` of the upper triangles;
* ``welch_psd`` (nperseg 1000): ``scipy.signal.welch(x, fs, nperseg=1000, axis=0)``;
* ``peak_frequency`` / ``band_power``: the same Welch PSD, then numpy (argmax and a
  parabola through the log power / a sum over the band);
* ``hilbert_phase``: ``np.angle(scipy.signal.hilbert(x, axis=0))``;
* ``kuramoto_order(kind='phase')`` (the series read as phases): ``abs(mean(exp(1j x), axis=1))``;
* ``kuramoto_order(kind='signal')`` and ``metastability``: the Hilbert phase of the
  demeaned series, then ``abs(mean(exp(1j theta), axis=1))`` (and its std).

Not a test: the numbers depend on the machine (the CPU count above all).

Usage::

    /work/venv/bin/python benchmarks/bench_analysis.py [--t 100000] [--n 76] [--repeats 5]
"""
from __future__ import annotations

import argparse
import time

import brainunit as u
import jax
import numpy as np
import scipy.signal

from brainmass import analysis as bma

DT_MS = 1.0
FS = 1000.0 / DT_MS


def workload(n_time, n_regions, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None] * DT_MS * 1e-3
    freqs = rng.uniform(8.0, 12.0, size=n_regions)
    x = np.sin(2 * np.pi * freqs * t + rng.uniform(0, 2 * np.pi, n_regions)) + rng.normal(size=(n_time, n_regions))
    return x.astype(np.float32)


# ---------------------------------------------------------------- numpy / scipy references

def np_fcd(x, window, step):
    rows, cols = np.triu_indices(x.shape[1], k=1)
    vecs = [np.corrcoef(x[s:s + window].T)[rows, cols] for s in range(0, x.shape[0] - window + 1, step)]
    return np.corrcoef(np.asarray(vecs))


def np_peak(x):
    f, p = scipy.signal.welch(x, fs=FS, nperseg=1000, axis=0)
    p = np.log(p[1:])
    k = np.argmax(p, axis=0)
    k = np.clip(k, 1, p.shape[0] - 2)
    a, b, c = (np.take_along_axis(p, (k + d)[None], 0)[0] for d in (-1, 0, 1))
    return f[1] + (k + 0.5 * (a - c) / (a - 2 * b + c)) * (f[1] - f[0])


def np_band(x):
    f, p = scipy.signal.welch(x, fs=FS, nperseg=1000, axis=0)
    return p[(f >= 8) & (f <= 12)].sum(0) * (f[1] - f[0])


def np_order(x):
    theta = np.angle(scipy.signal.hilbert(x - x.mean(0), axis=0))
    return np.abs(np.exp(1j * theta).mean(1))


def cases(window, step):
    dt = DT_MS * u.ms
    return [
        ('fc', lambda x: bma.fc(x), lambda x: np.corrcoef(x.T)),
        (f'fcd (w={window}, s={step})', lambda x: bma.fcd(x, window, step), lambda x: np_fcd(x, window, step)),
        ('welch_psd (nperseg=1000)', lambda x: bma.welch_psd(x, dt, nperseg=1000)[1].mantissa,
         lambda x: scipy.signal.welch(x, fs=FS, nperseg=1000, axis=0)[1]),
        ('peak_frequency', lambda x: bma.peak_frequency(x, dt, nperseg=1000).mantissa, np_peak),
        ('band_power (8-12 Hz)', lambda x: bma.band_power(x, dt, (8, 12), nperseg=1000).mantissa, np_band),
        ('hilbert_phase', lambda x: bma.hilbert_phase(x), lambda x: np.angle(scipy.signal.hilbert(x, axis=0))),
        ('kuramoto_order (phase)', lambda x: bma.kuramoto_order(x, kind='phase'),
         lambda x: np.abs(np.exp(1j * x).mean(1))),
        ('kuramoto_order (signal)', lambda x: bma.kuramoto_order(x, kind='signal'), np_order),
        ('metastability (signal)', lambda x: bma.metastability(x, kind='signal'), lambda x: np_order(x).std()),
    ]


def timed(f, x):
    start = time.perf_counter()
    jax.block_until_ready(f(x))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--t', type=int, default=100_000)
    parser.add_argument('--n', type=int, default=76)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--window', type=int, default=2000)
    parser.add_argument('--step', type=int, default=1000)
    args = parser.parse_args()
    x_np = workload(args.t, args.n)
    x_jax = jax.device_put(x_np)
    print(f'x: ({args.t}, {args.n}) float32, dt = {DT_MS} ms; device {jax.devices()[0]}; '
          f'median of {args.repeats} alternating rounds after a warm-up')
    print(f'{"function":28s} {"brainmass [ms]":>15s} {"numpy/scipy [ms]":>17s} {"ratio":>7s}')
    for name, ours, ref in cases(args.window, args.step):
        ours = jax.jit(ours)
        compile_s = timed(ours, x_jax)
        timed(ref, x_np)
        t_ours, t_ref = [], []
        for _ in range(args.repeats):
            t_ours.append(timed(ours, x_jax))
            t_ref.append(timed(ref, x_np))
        a, b = np.median(t_ours) * 1e3, np.median(t_ref) * 1e3
        print(f'{name:28s} {a:15.2f} {b:17.2f} {a / b:7.2f}   (first call incl. compile {compile_s:.2f} s)')


if __name__ == '__main__':
    main()
