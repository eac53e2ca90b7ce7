# contree-auth recipes. The README's two commands need none of these.

wasm := "target/wasm32-wasip2/component/contree_auth.wasm"

# Build the component (the artifact the stock wasmtime CLI runs).
build:
    host-test/ensure-wasm-target
    cargo build --profile component --locked --target wasm32-wasip2 -p contree-auth
    @ls -l {{wasm}}

# Every test: unit tests of the guest logic and the component under wasmtime.
test:
    cargo test --workspace

# The native launcher: `just run auth ls`, `just run -f json auth ls --offline`.
run *ARGS:
    cargo run --release -p contree-host --bin contree -- {{ARGS}}

# Run the component with the stock wasmtime CLI against $CONTREE_HOME.
wasmtime *ARGS: build
    wasmtime run -S http --dir "$CONTREE_HOME" --env CONTREE_HOME="$CONTREE_HOME" {{wasm}} {{ARGS}}

# Speed and memory against the Python contree-cli 0.9.4 (see bench/README.md).
bench:
    bench/run.sh

fmt:
    cargo fmt --all

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Fuzz the INI codec and the argument parser (nightly + cargo-fuzz), SECONDS each.
fuzz SECONDS="60":
    cargo install cargo-fuzz --locked --quiet || true
    cd fuzz && cargo +nightly fuzz run ini corpus/ini -- -max_total_time={{SECONDS}}
    cd fuzz && cargo +nightly fuzz run args corpus/args -- -max_total_time={{SECONDS}}
