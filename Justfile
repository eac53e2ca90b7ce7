# contree-auth recipes. The README's two commands need none of these.

wasm := "target/wasm32-wasip2/component/contree_auth.wasm"

# Build the component (the artifact the stock wasmtime CLI runs).
build:
    host-test/ensure-wasm-target
    cargo build --profile component --locked --target wasm32-wasip2 -p contree-auth
    @ls -l {{wasm}}

# The release (docs/releases.md): dist/ holds the command and tool components
# (reproducible: the tests rebuild them elsewhere and compare), the release
# launcher for this machine, VERSION and SHA256SUMS. The release workflow
# runs this recipe; the tests run the same contree-dist command.
dist:
    host-test/ensure-wasm-target
    cargo build --release --locked -p contree-host --bin contree
    cargo run --locked -p contree-host --features harness --bin contree-dist -- --out dist --launcher target/release/contree

# Every test: unit tests of the guest logic and the component under wasmtime.
test:
    cargo test --workspace

# The native launcher, as the README runs it (the tests' build, ready after
# `cargo test`): `just run auth ls`, `just run -f json auth ls --offline`.
run *ARGS:
    cargo run -p contree-host --bin contree -- {{ARGS}}

# Install the launcher as `contree` (~/.cargo/bin), its man page, and the
# completions of the shells found on PATH (see the README).
install:
    cargo install --path host-test --locked --bin contree --target-dir target
    mkdir -p ~/.cargo/share/man/man1 && target/release/contree man > ~/.cargo/share/man/man1/contree.1
    d="${XDG_DATA_HOME:-$HOME/.local/share}/bash-completion/completions"; mkdir -p "$d" && target/release/contree completions bash > "$d/contree"
    if command -v fish >/dev/null; then d="${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions"; mkdir -p "$d" && target/release/contree completions fish > "$d/contree.fish"; fi
    if command -v zsh >/dev/null; then mkdir -p ~/.zfunc && target/release/contree completions zsh > ~/.zfunc/_contree && echo 'zsh: add `fpath+=(~/.zfunc)` before `compinit` in ~/.zshrc'; fi

# Undo `just install` (profiles and the compile cache stay).
uninstall:
    cargo uninstall contree-host
    rm -f "${XDG_DATA_HOME:-$HOME/.local/share}/bash-completion/completions/contree" "${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions/contree.fish" ~/.zfunc/_contree ~/.cargo/share/man/man1/contree.1

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

# Fuzz the whole read path, the INI codec and the argument parser (nightly +
# cargo-fuzz), SECONDS each (docs/fuzzing.md).
fuzz SECONDS="60":
    cargo install cargo-fuzz --locked --quiet || true
    cd fuzz && cargo +nightly fuzz run read_path corpus/read_path -- -max_total_time={{SECONDS}}
    cd fuzz && cargo +nightly fuzz run ini corpus/ini -- -max_total_time={{SECONDS}}
    cd fuzz && cargo +nightly fuzz run args corpus/args -- -max_total_time={{SECONDS}}
