"""EEG from a Jansen-Rit network: simulate, map region dipoles to electrodes.

Eight Jansen-Rit columns on the bundled connectome, each driven by a noisy
extrinsic rate p (mean 220 Hz, s.d. 22 Hz), coupled through the sigmoidal
Jansen-Rit coupling. The pyramidal potential E - I (mV, the node output) is
taken as proportional to the region's current dipole (``DIPOLE_PER_MV``
nA m per mV); an ``EEGLeadFieldModel`` with a simple spherical-head lead
field (dipoles at the region centres, 32 electrodes on a 90 mm sphere, gain
falling as 1/r^2) maps the dipoles to average-referenced electrode
potentials in microvolts. The script prints the dominant EEG frequency (the
Jansen-Rit alpha rhythm) and writes a figure.

Run: ``python examples/eeg_jansen_rit.py`` (about 20 s on 2 cores).
"""
import brainstate
import brainunit as u
import numpy as np

import brainmass

DIPOLE_PER_MV = 10.0  # nA m of current dipole per mV of pyramidal potential (order of magnitude)


def spherical_leadfield(centres_mm, n_electrodes=32, radius_mm=90.0, seed=0):
    """A toy (n_regions, n_electrodes) lead field in µV/(nA m): 1/r^2 fall-off from region to electrode."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=(n_electrodes, 3))
    direction[:, 2] = np.abs(direction[:, 2])  # upper hemisphere, like a cap
    electrodes = radius_mm * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    r2 = ((centres_mm[:, None, :] - electrodes[None, :, :]) ** 2).sum(-1)
    return 1e3 / r2 * u.uvolt / (u.nA * u.meter)


def simulate(duration_s=4.0, seed=0):
    brainstate.environ.set(dt=0.1 * u.ms)
    brainstate.random.seed(seed)
    conn = brainmass.datasets.load_dataset('example_connectome')
    n = conn.n_regions
    drive = brainmass.GaussianNoise(n, mean=3.25 * u.mV * 220 * u.Hz, sigma=3.25 * u.mV * 22 * u.Hz)
    node = brainmass.JansenRitStep(n, noise_Ev=drive)
    net = brainmass.Network(node, conn=conn.weights, distance=conn.distances, speed=5 * u.mm / u.ms,
                            coupling='sigmoidal_jansen_rit', coupled_var='E - I', k=1.0)
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(duration_s * u.second, sample_every=10,
                                                       transient=1 * u.second)
    return conn, res['ts'], res['output']  # output: E - I in mV, sampled at 1 kHz


def to_eeg(conn, pyramidal_mv):
    centres = np.asarray(u.Quantity(conn.centres).to_decimal(u.mm))
    L = spherical_leadfield(centres)
    eeg = brainmass.EEGLeadFieldModel(conn.n_regions, L.shape[1], L, sensor_unit=u.uvolt, reference='average')
    dipoles = (pyramidal_mv.to_decimal(u.mV) - pyramidal_mv.to_decimal(u.mV).mean(0)) * DIPOLE_PER_MV * u.nA * u.meter
    return eeg(dipoles)


def dominant_frequency(signal, fs_hz):
    x = signal - signal.mean(0)
    spectrum = (np.abs(np.fft.rfft(x, axis=0)) ** 2).mean(1)
    freqs = np.fft.rfftfreq(x.shape[0], 1 / fs_hz)
    band = freqs > 1.0
    return freqs[band][np.argmax(spectrum[band])]


def main(duration_s=4.0, figure='eeg_jansen_rit.png'):
    conn, ts, pyramidal = simulate(duration_s)
    eeg = to_eeg(conn, pyramidal)
    values = np.asarray(eeg.to_decimal(u.uvolt))
    peak = dominant_frequency(values, fs_hz=1000.)
    print(f'EEG: {values.shape[1]} electrodes x {values.shape[0]} samples at 1 kHz, in µV')
    print(f'dominant frequency {peak:.1f} Hz; largest re-referenced sum {np.abs(values.sum(1)).max():.1e} µV')
    if figure:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        brainmass.viz.plot_timeseries(eeg[:1000, :6], ts[:1000], ax=axes[0])
        axes[0].set_title('EEG (6 electrodes, µV)')
        brainmass.viz.plot_power_spectrum(eeg, dt=1 * u.ms, ax=axes[1])
        fig.tight_layout()
        fig.savefig(figure, dpi=100)
        print(f'wrote {figure}')
    return peak, values


if __name__ == '__main__':
    main()
