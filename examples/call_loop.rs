//! A small call loop with a JSON summary.
//!
//! ```sh
//! cargo run --example call_loop -- lockphone.toml 'sip:bob@127.0.0.1:5061;transport=tls' [CALLS] [CONCURRENCY]
//! ```
//!
//! Places CALLS calls (default 5), CONCURRENCY at a time (default 2), each lasting one second
//! once answered, prints one line per call as it ends, and at the end the loop's summary as
//! one JSON line (counts, setup-time percentiles, failures by reason). Exits 0 only if every
//! call was Ok and Encrypted.

use std::process::ExitCode;
use std::time::Duration;

use lockphone::config::Config;
use lockphone::harness::{CallLoop, LoopOptions, ReportLine};
use lockphone::ua::Phone;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("call_loop: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(config), Some(target)) = (args.next(), args.next()) else {
        return Err("usage: call_loop CONFIG TARGET-URI [CALLS] [CONCURRENCY]".into());
    };
    let calls: u32 = args.next().map_or(Ok(5), |s| s.parse())?;
    let concurrency: u32 = args.next().map_or(Ok(2), |s| s.parse())?;
    let config = Config::load(config.as_ref())?;
    // An account that registers would register first (see the secure_call example).
    let mut phone = Phone::start(config.account(None)?).await?;
    let options = LoopOptions::new(&target, calls, concurrency, Duration::from_secs(1));
    let mut calls = CallLoop::new(&mut phone, options);
    while let Some(report) = calls.next_report().await {
        println!(
            "call {}: {:?} {} setup {:.0} ms",
            report.index,
            report.result,
            report
                .verdict
                .as_ref()
                .map_or("-".to_owned(), |v| v.level.as_words().to_owned()),
            report.setup_ms.unwrap_or(0.0),
        );
        if let Some(failure) = &report.failure {
            println!("  why: {}", failure.reason);
        }
    }
    let summary = calls.summary();
    println!("{}", serde_json::to_string(&ReportLine::Summary(&summary))?);
    phone.shutdown().await;
    Ok(summary.failed == 0 && summary.not_secure == 0)
}
