//! `contree`: runs the `contree auth` component natively. Every argument goes
//! to the component; see `contree_host::launcher` for what it may touch.

use std::io::Write;

static COMPONENT: &[u8] = include_bytes!(env!("CONTREE_AUTH_WASM"));

fn main() {
    let code = match contree_host::launcher::launch(COMPONENT) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}", contree_host::launcher::error_line(&err));
            1
        }
    };
    // Inherited stdio goes through the host's buffered handles, which
    // `process::exit` does not flush.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code);
}
