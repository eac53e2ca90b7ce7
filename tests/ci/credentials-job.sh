#!/usr/bin/env bash
# A CI step that fails fast unless the ConTree credentials work. It runs the
# component under the stock wasmtime CLI with only the grants it needs: one
# temporary directory, outgoing HTTP, and three named environment variables.
# The README shows it; tests/component/ci_job.rs runs it as written.
#
#   CONTREE_TOKEN      the token (a CI secret: never on a command line)
#   CONTREE_PROJECT    the project ID
#   CONTREE_URL        the API base URL (optional: the public API by default)
#   CONTREE_AUTH_WASM  the component (default: contree_auth.wasm)
#   WASMTIME           the wasmtime CLI (default: wasmtime)
set -euo pipefail
umask 077 # WASI cannot set file modes: keep the token file private
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
# CONTREE_PRIVATE_FILES=1: the umask above keeps auth.ini private (no warning).
grants=(-S http --dir "$home" --env CONTREE_HOME="$home" --env CONTREE_PRIVATE_FILES=1
    --env CONTREE_TOKEN --env CONTREE_PROJECT)
[[ -n "${CONTREE_URL:-}" ]] && grants+=(--env CONTREE_URL)
contree() {
    "${WASMTIME:-wasmtime}" run "${grants[@]}" "${CONTREE_AUTH_WASM:-contree_auth.wasm}" "$@"
}
# Verify the token with whoami and save it: exit 1, with the reason, if rejected.
# No input: a missing secret fails at once, naming the variable to set.
contree auth --profile ci -y </dev/null
# Then exit 1 unless the profile is `ok` (it has the `list` permission), saying why.
contree -f json auth ls --check ci
