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
    // A FIPS build that is not really in FIPS mode must not run at all.
    if let Err(e) = lockphone::tls::check_fips() {
        eprintln!("lockphone: {e}");
        return ExitCode::from(cli::EXIT_CONFIG);
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
