//! Serves the mock ConTree API until killed, for manual runs and benchmarks:
//! `mock-api [--port N] [--latency-ms N] [--slow-ms N]` prints its URL.

use std::io::Write;

use contree_host::MockApi;

fn main() {
    if let Err(message) = run() {
        eprintln!("mock-api: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut port = 0u16;
    let mut latency_ms = 0u64;
    let mut slow_ms = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{name}: {e}"));
        match name.as_str() {
            "--port" => {
                port = u16::try_from(number(value()?)?).map_err(|e| format!("--port: {e}"))?
            }
            "--latency-ms" => latency_ms = number(value()?)?,
            "--slow-ms" => slow_ms = Some(number(value()?)?),
            "-h" | "--help" => {
                println!("usage: mock-api [--port N] [--latency-ms N] [--slow-ms N]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let api = MockApi::start_on(port).map_err(|e| format!("cannot listen: {e}"))?;
    api.set_latency_ms(latency_ms);
    if let Some(ms) = slow_ms {
        api.set_slow_ms(ms);
    }
    println!("{}", api.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
