//! The `lockphone` command: a secure SIP softphone.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if !args.is_ui() {
        cli::init_logging(args.verbose);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lockphone: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_INTERNAL);
        }
    };
    let code = runtime.block_on(cli::run(args));
    ExitCode::from(code)
}
