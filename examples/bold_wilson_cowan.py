"""BOLD from a noisy Wilson-Cowan network, three ways.

1. in the loop: a ``BOLDMonitor`` steps the Balloon-Windkessel model with the
   network's excitatory rate every dt and records BOLD at the TR, so the
   full-rate neural trace is never stored;
2. offline: ``bold_from_trace`` on a recorded (downsampled) trace;
3. the fast linear route: ``HRFBold`` convolution with the SPM double gamma.

Run: ``python examples/bold_wilson_cowan.py`` (about a minute on 2 cores).
"""
import brainstate
import brainunit as u
import numpy as np

import brainmass


def main(duration_s=60.0, tr_s=2.0):
    brainstate.environ.set(dt=1. * u.ms)
    brainstate.random.seed(1)
    conn = brainmass.datasets.load_dataset('example_connectome')
    n = conn.n_regions
    nodes = brainmass.WilsonCowanStep(n, noise_E=brainmass.OUProcess(n, sigma=0.3, tau=50 * u.ms))
    net = brainmass.Network(nodes, conn=conn.weights, distance=conn.distances, speed=5 * u.mm / u.ms,
                            coupled_var='rE', k=0.2)
    sim = brainmass.Simulator(net, dt=1. * u.ms)
    res = sim.run(duration_s * u.second, sample_every=int(tr_s * 1000),
                  monitors={'bold': brainmass.BOLDMonitor('node.rE')}, transient=4 * u.second)
    bold = np.asarray(u.get_magnitude(res['bold']))
    print(f'in-loop BOLD: {bold.shape[0]} volumes at TR = {tr_s} s, {n} regions, '
          f'range [{bold.min():.2e}, {bold.max():.2e}]')

    rates = sim.run(duration_s * u.second, sample_every=10, monitors=['node.rE'])['node.rE']
    hrf = brainmass.HRFBold(period=tr_s * 1000 * u.ms, downsample_period=10 * u.ms)
    conv = np.asarray(u.get_magnitude(hrf(rates, 10 * u.ms)))
    print(f'HRF-convolved BOLD: {conv.shape}')
    fc = np.corrcoef(bold.T)
    print(f'BOLD FC mean off-diagonal: {fc[~np.eye(n, dtype=bool)].mean():.3f}')


if __name__ == '__main__':
    main()
