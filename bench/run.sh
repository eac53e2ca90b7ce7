#!/usr/bin/env bash
# Measured speed: builds the launcher, the mock API and the component, installs
# the Python contree-cli 0.9.4 into target/bench-venv, then runs bench/bench.py.
# Arguments go to bench.py (e.g. `bench/run.sh --runs 3 --cases abd`).
# BENCH_SKIP_BUILD=1 skips the cargo builds (the binaries must exist).
set -euo pipefail
cd "$(dirname "$0")/.."

PY_CLI_VERSION=0.9.4
VENV=target/bench-venv

if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
    echo "== building the launcher and mock-api (release)" >&2
    # The launcher as it ships; the mock API is test support (feature harness).
    cargo build --release --locked -p contree-host --bin contree
    cargo build --release --locked -p contree-host --features harness --bin mock-api
    echo "== building the component (wasm32-wasip2, profile component)" >&2
    host-test/ensure-wasm-target
    cargo build --profile component --locked --target wasm32-wasip2 -p contree-auth
fi

installed() {
    [[ -x "$VENV/bin/contree" ]] &&
        [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("contree-cli"))' 2>/dev/null)" == "$PY_CLI_VERSION" ]]
}
if ! installed; then
    echo "== installing contree-cli==$PY_CLI_VERSION into $VENV" >&2
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "contree-cli==$PY_CLI_VERSION"
    installed || { echo "bench: contree-cli $PY_CLI_VERSION did not install" >&2; exit 1; }
fi

echo "== running bench/bench.py" >&2
exec "$VENV/bin/python" bench/bench.py "$@"
