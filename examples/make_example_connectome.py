"""Generate brainmass's bundled 8-region example connectome, deterministically.

Run::

    python examples/make_example_connectome.py            # writes ./example_connectome.npz
    python examples/make_example_connectome.py --out brainmass/datasets/data/example_connectome.npz

It writes ``example_connectome.npz`` into the current directory (or the ``--out``
path: from the repository root, the second line refreshes the bundled file) with

* ``centres``   (8, 3) region centres in mm: two mirror-image "hemispheres" of four
  regions each (frontal, parietal, temporal, occipital), with a small seeded jitter;
* ``distances`` (8, 8) Euclidean distances between the centres, scaled (with the
  centres) so that the largest is exactly 80.0 mm; symmetric, zero diagonal;
* ``weights``   (8, 8) exp(-distance / 30 mm) times a symmetric seeded jitter,
  zero diagonal, normalised so the largest weight is 1;
* ``labels``    'R0' .. 'R7'.

Only numpy is needed, so the file can be regenerated on any machine; the same
seed always gives the same arrays.
"""
from pathlib import Path

import numpy as np

SEED = 2024
MAX_DISTANCE_MM = 80.0
LENGTH_SCALE_MM = 30.0
OUT = Path('example_connectome.npz')  # in the current working directory


def make_centres(rng):
    """Four regions per hemisphere (x < 0 left, x > 0 right), in mm."""
    half = np.array([[35., 40., 30.],    # frontal
                     [35., -30., 45.],   # parietal
                     [45., -10., -15.],  # temporal
                     [25., -75., 5.]])   # occipital
    left = half * np.array([-1., 1., 1.])
    centres = np.concatenate([left, half]) + rng.normal(scale=3.0, size=(8, 3))
    return centres


def make_distances(centres):
    """Euclidean distances scaled so the maximum is exactly MAX_DISTANCE_MM."""
    d = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)
    d = 0.5 * (d + d.T)
    np.fill_diagonal(d, 0.0)
    scale = MAX_DISTANCE_MM / d.max()
    d = d * scale
    d[d == d.max()] = MAX_DISTANCE_MM  # exact, in both symmetric positions
    return d, centres * scale


def make_weights(distances, rng):
    """Weights decaying with distance, with a symmetric jitter; max weight 1."""
    jitter = rng.lognormal(mean=0.0, sigma=0.3, size=distances.shape)
    jitter = np.sqrt(jitter * jitter.T)
    w = np.exp(-distances / LENGTH_SCALE_MM) * jitter
    np.fill_diagonal(w, 0.0)
    return w / w.max()


def main(out=OUT):
    rng = np.random.default_rng(SEED)
    centres = make_centres(rng)
    distances, centres = make_distances(centres)
    weights = make_weights(distances, rng)
    labels = np.array([f'R{i}' for i in range(len(weights))])
    assert np.allclose(weights, weights.T) and np.all(np.diag(weights) == 0)
    assert distances.max() == MAX_DISTANCE_MM and np.array_equal(distances, distances.T)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, weights=weights, distances=distances, labels=labels, centres=centres)
    print(f'wrote {out}: {len(labels)} regions, max distance {distances.max()} mm, '
          f'max weight {weights.max()}')


if __name__ == '__main__':
    import argparse
    parser = argparse.ArgumentParser(description='Generate the 8-region example connectome (.npz).')
    parser.add_argument('--out', type=Path, default=OUT, help='output file (default: ./example_connectome.npz)')
    main(parser.parse_args().out)
