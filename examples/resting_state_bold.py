"""The resting-state BOLD study of the network guide, on the bundled connectome.

The guide's recipe (a WongWang-family network with OU noise on the excitatory
gating, the Balloon-Windkessel BOLD model, downsampling to TR = 2 s and the BOLD
functional connectivity) written twice:

1. ``guide_style``: the guide's own components (``WongWangModel``,
   ``DiffusiveCoupling(conn=SC, k=...)`` called as ``coupling(S_E, S_E)``,
   ``BOLDSignal``), with the two Python loops turned into compiled
   ``brainstate.transform.for_loop`` loops (a 600 s run is 600,000 steps);
2. ``network_style``: ``Network`` + ``Simulator`` with an in-loop
   ``BOLDMonitor``, so the full-rate neural trace is never stored.

Run: ``python examples/resting_state_bold.py [seconds]`` (default 600 s of
simulated time; a few minutes on 2 cores).
"""
import sys
import warnings

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

import brainmass


def guide_style(simulation_time=600, coupling_strength=0.2, seed=0):
    """The guide's code with compiled loops; returns (FC, downsampled BOLD)."""
    dt = 1 * u.ms
    brainstate.environ.set(dt=dt)
    brainstate.random.seed(seed)
    # the guide writes `(...).magnitude`; brainunit 0.5 returns a plain float for a dimensionless ratio
    T_steps = int(u.get_magnitude(simulation_time * u.second / dt))
    SC = jnp.asarray(brainmass.datasets.load_dataset('example_connectome').weights)
    N_regions = SC.shape[0]

    with warnings.catch_warnings():  # the guide's (deprecated) name, kept on purpose: this is the guide's code
        warnings.simplefilter('ignore', DeprecationWarning)
        nodes = brainmass.WongWangModel(in_size=N_regions)  # new name: WongWangExcInhStep (see network_style)
    coupling = brainmass.DiffusiveCoupling(conn=SC, k=coupling_strength)
    nodes.noise_E = brainmass.OUProcess(in_size=N_regions, sigma=0.01 * u.Hz, tau=100 * u.ms)
    bold = brainmass.BOLDSignal(in_size=N_regions)
    nodes.init_all_states()
    coupling.init_all_states()
    bold.init_all_states()

    def neural_step(t):
        S_E = nodes.S_E.value
        return nodes.update(S_E_ext=coupling(S_E, S_E))

    neural_activity = brainstate.transform.for_loop(neural_step, jnp.arange(T_steps))

    def bold_step(z):
        bold.update(z=z)
        return bold.bold()

    bold_ts = brainstate.transform.for_loop(bold_step, neural_activity)
    TR_steps = int(u.get_magnitude(2 * u.second / dt))
    bold_downsampled = bold_ts[::TR_steps]
    FC_sim = jnp.corrcoef(bold_downsampled.T)
    return FC_sim, bold_downsampled


def network_style(simulation_time=600, k=0.2, seed=0):
    """The same study through Network + Simulator with BOLD computed in the loop."""
    brainstate.environ.set(dt=1 * u.ms)
    brainstate.random.seed(seed)
    conn = brainmass.datasets.load_dataset('example_connectome')
    n = conn.n_regions
    nodes = brainmass.WongWangExcInhStep(n, noise_S_e=brainmass.OUProcess(n, sigma=0.01, tau=100 * u.ms))
    net = brainmass.Network(nodes, conn=conn.weights, distance=conn.distances, speed=5 * u.mm / u.ms,
                            coupled_var='S_e', k=k)
    res = brainmass.Simulator(net, dt=1 * u.ms).run(
        simulation_time * u.second, sample_every=2000, monitors={'bold': brainmass.BOLDMonitor('node.S_e')})
    bold = np.asarray(u.get_magnitude(res['bold']))
    return np.corrcoef(bold.T), bold


def main(simulation_time=600):
    print('Running simulation...')
    FC_sim, bold = guide_style(simulation_time)
    print(f'Simulated FC shape: {FC_sim.shape}  ({bold.shape[0]} volumes at TR = 2 s)')
    fc_net, bold_net = network_style(simulation_time)
    off = ~np.eye(fc_net.shape[0], dtype=bool)
    print(f'Network + BOLDMonitor: {bold_net.shape[0]} volumes, mean FC {fc_net[off].mean():.3f}')


if __name__ == '__main__':
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 600)
