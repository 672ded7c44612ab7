//! `lockphone daemon`: the account's phone, driven over the JSON-lines control socket
//! (schema: docs/control-api.md).

use std::net::SocketAddr;
use std::path::PathBuf;

use lockphone::control::Token;
use lockphone::daemon::{DaemonError, DaemonOptions, Started, default_socket};

use super::start::{exit_code_for_error, fail, load_account};
use super::{EXIT_CONFIG, EXIT_OK, EXIT_UNREACHABLE};

/// Arguments of `lockphone daemon`.
#[derive(Debug, clap::Args)]
pub(crate) struct DaemonArgs {
    /// The configuration file (see examples/lockphone.toml).
    #[arg(long, short = 'c')]
    config: PathBuf,
    /// The account to use (default: the first one in the file).
    #[arg(long, short = 'a')]
    account: Option<String>,
    /// The control socket (default: $XDG_RUNTIME_DIR/lockphone/daemon[-ACCOUNT].sock, else
    /// in ~/.config/lockphone). Created with mode 0600.
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Also accept control connections on this loopback TCP address (127.0.0.1:PORT);
    /// clients must send `{"command":"auth","token":…}` first. Needs --token-file.
    #[arg(long, requires = "token_file")]
    tcp: Option<SocketAddr>,
    /// The file holding the TCP token (one line; readable by its owner only).
    #[arg(long, requires = "tcp")]
    token_file: Option<PathBuf>,
}

/// Runs the daemon until `shutdown`, SIGINT or SIGTERM.
pub(crate) async fn run(args: DaemonArgs) -> u8 {
    let account = match load_account(&args.config, args.account.as_deref()) {
        Ok(account) => account,
        Err(code) => return code,
    };
    let Some(socket) = args
        .socket
        .clone()
        .or_else(|| default_socket(args.account.as_deref()))
    else {
        return fail(
            "no place for the control socket: set XDG_RUNTIME_DIR or HOME, or give --socket",
            EXIT_CONFIG,
        );
    };
    let tcp = match (args.tcp, &args.token_file) {
        (Some(addr), Some(file)) => match read_token(file) {
            Ok(token) => Some((addr, token)),
            Err(message) => return fail(&message, EXIT_CONFIG),
        },
        _ => None,
    };
    let options = DaemonOptions { socket, tcp };
    let outcome = lockphone::daemon::run(&account, options, |started| match started {
        Started::Socket(path) => eprintln!("lockphone: control socket {}", path.display()),
        Started::Tcp(addr) => eprintln!("lockphone: control port {addr} (token required)"),
        Started::Calls(addr) => eprintln!("lockphone: listening for calls on {addr}"),
    })
    .await;
    match outcome {
        Ok(()) => EXIT_OK,
        Err(DaemonError::Phone(e)) => fail(&e.to_string(), exit_code_for_error(&e)),
        Err(e @ DaemonError::Socket { .. }) => fail(&e.to_string(), EXIT_UNREACHABLE),
        Err(e) => fail(&e.to_string(), EXIT_CONFIG),
    }
}

/// The token: the file's first line, from a file only its owner can read.
fn read_token(path: &std::path::Path) -> Result<Token, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        if meta.mode() & 0o077 != 0 {
            return Err(format!(
                "the token file {} is readable by others: chmod 600 it",
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    let token = text.lines().next().unwrap_or_default().trim().to_owned();
    if token.len() < 16 {
        return Err(format!(
            "the token in {} is too short: use at least 16 random characters",
            path.display()
        ));
    }
    Ok(Token::new(token))
}
