"""Lay out sequence data for the recurrent sequence models (``HORNSeqLayer``, ``HORNSeqNetwork``).

Those models step through time on the leading axis: they take ``(T, batch, features)``.
:func:`process_sequence` turns the usual layouts into that one.
"""
from __future__ import annotations

import numpy as np

from .._core.validation import check_int_at_least

__all__ = ['process_sequence', 'SEQUENCE_MODES']

SEQUENCE_MODES = ('time_major', 'rows', 'pixels', 'permuted_pixels')


def process_sequence(data, mode='time_major', *, seed=0):
    """Reshape ``data`` into a time-major sequence ``(T, batch, features)``.

    Parameters
    ----------
    data : array
        ``'time_major'``: trials ``(batch, T, features)`` (or ``(batch, T)``, one
        feature). ``'rows'``, ``'pixels'``, ``'permuted_pixels'``: images
        ``(batch, H, W)`` or ``(batch, H, W, C)``.
    mode : str, default 'time_major'
        * ``'time_major'``: swap the batch and time axes;
        * ``'rows'``: one image row per step, ``(H, batch, W * C)``;
        * ``'pixels'``: one pixel per step in raster order, ``(H * W, batch, C)``
          (sequential MNIST);
        * ``'permuted_pixels'``: as ``'pixels'`` with the pixel order shuffled by a
          fixed permutation drawn from ``seed`` (permuted sequential MNIST); the same
          seed gives the same permutation for every call.
    seed : int, default 0
        Seed of the permutation of ``'permuted_pixels'``.

    Returns
    -------
    numpy.ndarray or jax.Array
        The same array type as ``data``, time first.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass import process_sequence
    >>> images = np.zeros((32, 28, 28))
    >>> process_sequence(images, mode='pixels').shape
    (784, 32, 1)
    >>> process_sequence(images, mode='rows').shape
    (28, 32, 28)
    >>> process_sequence(np.zeros((8, 50, 3))).shape
    (50, 8, 3)
    """
    if not isinstance(mode, str) or mode not in SEQUENCE_MODES:
        raise ValueError(f'`mode` must be one of {SEQUENCE_MODES}; got {mode!r}.')
    if not hasattr(data, 'swapaxes'):     # a list / tuple of numbers: a numpy array
        data = _numeric_array(data)
    if mode == 'permuted_pixels':
        check_int_at_least(seed, 0, 'seed')
    if np.dtype(data.dtype).kind not in 'biuf':
        raise TypeError(f'`data` must be a numeric array; got dtype {data.dtype}.')
    ndim = np.ndim(data)
    shape = np.shape(data)
    if mode == 'time_major':
        if ndim not in (2, 3):
            raise ValueError(f"`data` for mode='time_major' must be (batch, T) or (batch, T, features); "
                             f'got shape {shape}.')
        data = data if ndim == 3 else data[..., None]
        return data.swapaxes(0, 1)
    if ndim not in (3, 4):
        raise ValueError(f'`data` for mode={mode!r} must be images (batch, H, W) or (batch, H, W, C); '
                         f'got shape {shape}.')
    images = data if ndim == 4 else data[..., None]
    batch, height, width, channels = images.shape
    if mode == 'rows':
        return images.reshape(batch, height, width * channels).swapaxes(0, 1)
    pixels = images.reshape(batch, height * width, channels)
    if mode == 'permuted_pixels':
        pixels = pixels[:, np.random.default_rng(seed).permutation(height * width)]
    return pixels.swapaxes(0, 1)


def _numeric_array(data) -> np.ndarray:
    """``data`` (a nested list of numbers) as a numpy array; TypeError naming ``data`` otherwise."""
    try:
        return np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f'`data` must be a numeric array (numpy, JAX, or a nested list of numbers); '
                        f'got {type(data).__name__}.') from None
