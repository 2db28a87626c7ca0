#!/usr/bin/env bash
# Create the peer virtualenvs used by bench_peers.py (outside the repository).
#
#   PEERS_DIR   where the venvs go          (default: /work/peers)
#   PYTHON      interpreter to build them   (default: python3)
#
# tvb-venv:      tvb-library + numba (TVB's numba backend, NbMPRBackend and friends)
# neurolib-venv: neurolib (numba-jitted models: HopfModel, ALNModel, ...)
#
# Usage: bash benchmarks/setup_peers.sh [tvb|neurolib|all]
set -euo pipefail

PEERS_DIR=${PEERS_DIR:-/work/peers}
PYTHON=${PYTHON:-python3}
WHICH=${1:-all}
mkdir -p "$PEERS_DIR"

make_venv() {
    local dir=$1; shift
    if [ ! -x "$dir/bin/python" ]; then
        "$PYTHON" -m venv "$dir"
    fi
    "$dir/bin/python" -m pip install --quiet --upgrade pip
    "$dir/bin/python" -m pip install --quiet "$@"
}

if [ "$WHICH" = all ] || [ "$WHICH" = tvb ]; then
    echo "== tvb-venv: tvb-library + numba"
    make_venv "$PEERS_DIR/tvb-venv" tvb-library numba
    "$PEERS_DIR/tvb-venv/bin/python" -c "import tvb.simulator, numba; print('tvb', tvb.simulator.__file__, 'numba', numba.__version__)"
fi

if [ "$WHICH" = all ] || [ "$WHICH" = neurolib ]; then
    echo "== neurolib-venv: neurolib"
    make_venv "$PEERS_DIR/neurolib-venv" neurolib
    "$PEERS_DIR/neurolib-venv/bin/python" -c "import neurolib, numba; print('neurolib', neurolib.__file__, 'numba', numba.__version__)"
fi
