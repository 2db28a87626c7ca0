"""The text progress bar of ``sweep.run(progress=True)``."""
from __future__ import annotations

import sys
import time

__all__ = ['ProgressBar']


class ProgressBar:
    """A one-line text bar on stderr, updated after every chunk."""

    def __init__(self, n_chunks, n_points, width=24):
        self.n_chunks, self.n_points, self.width = n_chunks, n_points, width
        self.chunks = 0
        self.start = time.perf_counter()
        self._write(0)

    def update(self, points):
        self.chunks += 1
        self._write(points)

    def _write(self, points):
        done = int(self.width * points / max(1, self.n_points))
        sys.stderr.write(f'\r[sweep] |{"#" * done}{"." * (self.width - done)}| {self.chunks}/{self.n_chunks} chunks, '
                         f'{points}/{self.n_points} points ({time.perf_counter() - self.start:.1f} s)')
        sys.stderr.flush()

    def close(self):
        sys.stderr.write('\n')
        sys.stderr.flush()
