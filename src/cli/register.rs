//! `lockphone register`.

use std::time::Duration;

use lockphone::ua::Event;

use super::output::print_event;
use super::prompt::TrustPrompt;
use super::start::{registration_outcome, start_phone};
use super::{AccountArgs, EXIT_OK};

/// Arguments of `lockphone register`.
#[derive(Debug, clap::Args)]
pub(crate) struct RegisterArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Stay registered this many seconds, then un-register and exit (default: until Ctrl-C).
    #[arg(long)]
    duration: Option<u64>,
}

/// Runs the command; returns the exit code.
pub(crate) async fn run(args: RegisterArgs) -> u8 {
    let json = args.account.json;
    let (mut phone, prompt) = match start_phone(&args.account).await {
        Ok((phone, account)) => (phone, TrustPrompt::new(json, account.tls.untrusted)),
        Err(code) => return code,
    };
    phone.register();
    let deadline = async {
        match args.duration {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut registered = false;
    let code = loop {
        tokio::select! {
            event = phone.next_event() => {
                let Some(event) = event else { break EXIT_OK };
                prompt.print(&event, json);
                if let Event::TrustDecisionRequired { server, certificate } = &event
                    && let Err(code) = prompt.decide(&phone, server, certificate).await
                {
                    break code;
                }
                match registration_outcome(&event) {
                    Some(Ok(())) => registered = true,
                    Some(Err(code)) => break code,
                    None => {}
                }
            }
            () = &mut deadline => break EXIT_OK,
            _ = tokio::signal::ctrl_c() => break EXIT_OK,
        }
    };
    if code == EXIT_OK && registered {
        phone.unregister();
        let wait = tokio::time::sleep(Duration::from_secs(5));
        tokio::pin!(wait);
        loop {
            tokio::select! {
                event = phone.next_event() => match event {
                    Some(event) => {
                        print_event(&event, json);
                        if matches!(event, Event::Unregistered | Event::RegistrationFailed { .. }) {
                            break;
                        }
                    }
                    None => break,
                },
                () = &mut wait => {
                    eprintln!("lockphone: the registrar did not answer the un-REGISTER within 5 s");
                    break;
                }
            }
        }
    }
    phone.shutdown().await;
    code
}
