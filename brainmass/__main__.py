"""Command line: ``python -m brainmass demo [--out FILE] [--duration MS]``.

``demo`` simulates a delay-coupled Hopf network on the bundled connectome,
prints a summary (regions, delays, timings, dominant frequency, mean FC) and
writes a figure (connectivity, activity, functional connectivity). ``--duration``
is the recorded time (>= 10 ms), after a 100 ms transient that is discarded.

Bad arguments (and errors while running) end in one line on stderr,
``brainmass: error: ...``, and exit status 2, as argparse does.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

MIN_DURATION_MS = 10.0
MAX_DURATION_MS = 600_000.0
TRANSIENT_MS = 100.0


def demo(out: str = 'brainmass_demo.png', duration_ms: float = 2000.0) -> dict:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import brainstate
    import brainunit as u
    import numpy as np

    import brainmass

    conn = brainmass.datasets.load_dataset('example_connectome')
    n = conn.weights.shape[0]
    brainstate.environ.set(dt=0.1 * u.ms)
    brainstate.random.seed(0)
    noise = brainmass.GaussianNoise(n, sigma=0.005)
    node = brainmass.HopfStep(n, a=-0.002, w=2 * np.pi * 10 * u.Hz, noise_x=noise)  # a 10 Hz oscillator
    net = brainmass.Network(node, conn=conn.weights, distance=conn.distances, speed=5.0 * u.mm / u.ms,
                            coupling='diffusive', coupled_var='x', k=0.004)
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    t0 = time.perf_counter()
    res = sim.run((duration_ms + TRANSIENT_MS) * u.ms, monitors=['node.x'], transient=TRANSIENT_MS * u.ms,
                  sample_every=10)
    x = np.asarray(u.get_magnitude(res['node.x']))
    elapsed = time.perf_counter() - t0
    fc = np.corrcoef(x.T)
    freqs = np.fft.rfftfreq(len(x), d=1e-3)  # samples every 1 ms
    spectrum = np.abs(np.fft.rfft(x - x.mean(0), axis=0)).mean(1)
    peak_hz = float(freqs[1:][np.argmax(spectrum[1:])])
    summary = dict(regions=n, max_delay_ms=float(net.max_delay_steps * 0.1), samples=len(x),
                   seconds=elapsed, peak_hz=peak_hz,
                   mean_fc=float(fc[~np.eye(n, dtype=bool)].mean()))

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    brainmass.viz.plot_connectivity(conn.weights, labels=list(conn.labels), ax=axes[0])
    axes[0].set_title('structural weights')
    brainmass.viz.plot_timeseries(res['node.x'], ts=res['ts'], labels=list(conn.labels), ax=axes[1])
    axes[1].set_title('delay-coupled Hopf network (x)')
    brainmass.viz.plot_functional_connectivity(x, labels=list(conn.labels), ax=axes[2])
    axes[2].set_title('functional connectivity')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)

    print(f'brainmass {brainmass.__version__} demo: {n}-region delay-coupled Hopf network '
          f'(bundled example_connectome)')
    print(f'  simulated {duration_ms:.0f} ms at dt = 0.1 ms; max conduction delay {summary["max_delay_ms"]:.1f} ms')
    print(f'  {summary["samples"]} samples x {n} regions in {elapsed:.2f} s (compile included)')
    print(f'  dominant frequency {peak_hz:.1f} Hz; mean functional connectivity {summary["mean_fc"]:.3f}')
    print(f'  figure written to {out}')
    return summary


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line, ``brainmass: error: ...`` on stderr, exit status 2."""

    def error(self, message):
        self.exit(2, f'brainmass: error: {" ".join(str(message).split())} (see python -m brainmass -h)\n')


def _duration(text: str) -> float:
    """``--duration``: a finite number of ms, at least MIN_DURATION_MS (argparse reports the error)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a number of milliseconds, got {text!r}') from None
    if not math.isfinite(value) or not MIN_DURATION_MS <= value <= MAX_DURATION_MS:
        raise argparse.ArgumentTypeError(f'must be a number of ms from {MIN_DURATION_MS:g} to {MAX_DURATION_MS:g} '
                                         f'(10 minutes: the demo is a showcase; use brainmass.Simulator for longer '
                                         f'runs), got {text!r}')
    return value


def _check_out(parser, out: str) -> None:
    """``--out`` must name a figure file matplotlib can write, in an existing folder."""
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        parser.error(f'argument --out: folder {folder!r} does not exist')
    ext = os.path.splitext(out)[1].lower().lstrip('.')
    formats = ('png', 'pdf', 'svg', 'jpg', 'jpeg', 'eps', 'ps', 'tif', 'tiff', 'webp')
    if ext not in formats:
        parser.error(f'argument --out: expected a figure file ending in one of .{", .".join(formats)}, '
                     f'got {out!r}')


def main(argv=None):
    parser = _Parser(prog='python -m brainmass', description='brainmass command line')
    sub = parser.add_subparsers(dest='command', required=True)
    d = sub.add_parser('demo', help='simulate a whole-brain network on the bundled connectome')
    d.add_argument('--out', default='brainmass_demo.png', help='figure path (PNG, PDF, SVG, ...)')
    d.add_argument('--duration', type=_duration, default=2000.0,
                   help=f'recorded time in ms (>= {MIN_DURATION_MS:g}), after a {TRANSIENT_MS:g} ms transient')
    args = parser.parse_args(argv)
    if args.command == 'demo':
        _check_out(parser, args.out)
        try:
            demo(args.out, args.duration)
        except KeyboardInterrupt:
            print('brainmass: interrupted', file=sys.stderr)
            return 130
        except (ValueError, TypeError, OSError, FloatingPointError) as err:
            parser.error(' '.join(str(err).split()))  # one line, exit status 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
