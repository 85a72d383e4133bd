//! The `metrics-generator` binary: parses flags, sets up logging, runs the exporter, and turns an
//! error into one line on stderr and an exit status. Only this file decides the exit status.

use metrics_generator::{run, Args, Error, Registry};

fn main() {
    let args = match Args::from_env() {
        Ok(args) => args,
        Err(e) => fail(&e),
    };
    let level = if args.verbose { "debug" } else { "info" };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level)).init();
    // A panic is contained where it happens (a function, a request handler); the hook only makes
    // it one log line instead of a multi-line report on stderr.
    std::panic::set_hook(Box::new(|info| log::error!("panic: {info}")));
    if let Err(e) = run(&args, Registry::builtin()) {
        fail(&e);
    }
}

fn fail(e: &Error) -> ! {
    eprintln!("error: {e}");
    std::process::exit(e.exit_code());
}
