//! Log an account in with the OAuth 2.0 device authorization grant (RFC 8628) and store its
//! tokens encrypted, as `lockphone login --device-code` does.
//!
//! ```text
//! cargo run --example oauth_device_login -- CONFIG.toml [--account NAME] [--timeout SECS]
//! ```
//!
//! The account needs `[account.auth] method = "oauth"` with `client_id` and `issuer` (see
//! examples/lockphone.toml). The example prints the verification URI and the code to enter
//! on another device, waits for the approval, then prints where the encrypted tokens are and
//! how long the access token lasts. It never prints a token. Uses only the public API:
//! `lockphone::oauth::login::{known_issuer, login}`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lockphone::config::{Config, OAuthFlow};
use lockphone::oauth::login::{known_issuer, login};
use lockphone::oauth::{LoginEvent, LoginOptions};

fn parse_args() -> Result<(PathBuf, Option<String>, Duration), String> {
    let mut args = std::env::args().skip(1);
    let (mut config, mut account, mut timeout) = (None, None, Duration::from_secs(300));
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--account" => account = Some(value("--account")?),
            "--timeout" => {
                let secs = value("--timeout")?;
                timeout =
                    Duration::from_secs(secs.parse().map_err(|_| format!("bad --timeout {secs}"))?);
            }
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            path => config = Some(PathBuf::from(path)),
        }
    }
    let config =
        config.ok_or("usage: oauth_device_login CONFIG.toml [--account NAME] [--timeout SECS]")?;
    Ok((config, account, timeout))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("oauth_device_login: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let (config_path, account_name, timeout) = parse_args()?;
    let config = Config::load(&config_path).map_err(|e| e.to_string())?;
    let account = config
        .account(account_name.as_deref())
        .map_err(|e| e.to_string())?;
    let issuer = known_issuer(account)
        .map_err(|e| e.to_string())?
        .ok_or("set [account.auth] issuer (the authorization server's URL)")?;
    let options = LoginOptions {
        flow: OAuthFlow::DeviceCode,
        open_browser: false,
        timeout,
    };
    let tokens = login(account, &issuer, &options, |event| match event {
        LoginEvent::Discovered { issuer, .. } => println!("authorization server: {issuer}"),
        LoginEvent::DeviceCode {
            verification_uri,
            user_code,
            expires_in_secs,
            ..
        } => println!(
            "on another device, visit {verification_uri} and enter the code (valid {expires_in_secs} s): {user_code}"
        ),
        LoginEvent::LoggedIn {
            expires_in_secs,
            refresh_token,
            store,
            ..
        } => println!(
            "logged in: access token valid {} s, refresh token {}, stored encrypted in {store}",
            expires_in_secs.unwrap_or(0),
            if refresh_token { "yes" } else { "no" }
        ),
        _ => {}
    })
    .await
    .map_err(|e| format!("login failed: {e}"))?;
    println!(
        "scope: {}",
        tokens.scope.as_deref().unwrap_or("(as requested)")
    );
    Ok(())
}
