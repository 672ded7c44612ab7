//! Command-line parsing and the subcommands. Each subcommand is a thin user of the library API.

mod call;
mod call_loop;
mod capf_server;
mod contacts;
mod daemon;
mod demo;
mod enroll;
mod login;
mod output;
mod prompt;
mod register;
mod report;
mod start;
mod trust;
mod ui;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit code: success.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code: the configuration could not be used.
pub(crate) const EXIT_CONFIG: u8 = 2;
/// Exit code: the registrar refused us (credentials, forbidden, …).
pub(crate) const EXIT_REFUSED: u8 = 3;
/// Exit code: TLS failed (untrusted certificate, name mismatch, …).
pub(crate) const EXIT_TLS: u8 = 4;
/// Exit code: the server could not be reached or did not answer.
pub(crate) const EXIT_UNREACHABLE: u8 = 5;
/// Exit code: `loop` (and its library users' scripts): some calls failed.
pub(crate) const EXIT_CALLS_FAILED: u8 = 7;
/// Exit code: an internal error.
pub(crate) const EXIT_INTERNAL: u8 = 70;

/// Lockphone: a secure SIP softphone (SIP over TLS, SRTP, honest security verdicts).
#[derive(Debug, Parser)]
#[command(name = "lockphone", version, about)]
pub(crate) struct Cli {
    /// More logging on stderr (-v: debug, -vv: trace). RUST_LOG overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    command: Option<Command>,
}

impl Cli {
    /// Whether this run is the terminal UI (its log goes to the UI's log pane, not stderr).
    pub(crate) fn is_ui(&self) -> bool {
        match &self.command {
            Some(Command::Ui(_)) => true,
            None => ui::on_a_terminal(),
            Some(_) => false,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Register an account and stay registered until Ctrl-C (or --duration).
    Register(register::RegisterArgs),
    /// Manage the trusted server certificates ("Always trust" decisions).
    Trust(trust::TrustArgs),
    /// Call someone: `lockphone call -c lockphone.toml sip:bob@example.test`.
    Call(call::CallArgs),
    /// Answer incoming calls automatically (on the registration and/or calls.listen).
    Answer(call::AnswerArgs),
    /// A call loop: N calls to a target, C at a time, a JSON report per call, a summary.
    Loop(Box<call_loop::LoopArgs>),
    /// A secure call on this machine with nothing to configure: throwaway PKI, a callee and
    /// a caller on 127.0.0.1, TLS + SRTP + Opus, a test tone, the verdict and the statistics.
    Demo(demo::DemoArgs),
    /// Log in with OAuth 2.0 (device code or browser) and store the tokens encrypted.
    Login(login::LoginArgs),
    /// Revoke the refresh token (when the server can) and delete the stored tokens.
    Logout(login::LogoutArgs),
    /// Obtain, renew or show the account's LSC over CAPF (Cisco certificate enrollment).
    Enroll(Box<enroll::EnrollArgs>),
    /// Run a CAPF server (test CA, device table) for labs and tests.
    CapfServer(capf_server::CapfServerArgs),
    /// The terminal user interface (also `lockphone` alone on a terminal).
    Ui(ui::UiArgs),
    /// Search the account's contacts (config file and LDAP directory).
    Contacts(contacts::ContactsArgs),
    /// Run the account's phone for scripts: JSON-lines control on a Unix socket (and
    /// optionally 127.0.0.1 TCP with a token); see docs/control-api.md.
    Daemon(daemon::DaemonArgs),
}

/// Options shared by the commands that use an account.
#[derive(Debug, clap::Args)]
pub(crate) struct AccountArgs {
    /// The configuration file (see examples/lockphone.toml).
    #[arg(long, short = 'c')]
    pub(crate) config: PathBuf,
    /// The account to use (default: the first one in the file).
    #[arg(long, short = 'a')]
    pub(crate) account: Option<String>,
    /// Print events as JSON lines instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs the parsed command and returns the process exit code.
pub(crate) async fn run(cli: Cli) -> u8 {
    let Some(command) = cli.command else {
        if ui::on_a_terminal() {
            return ui::run(ui::UiArgs::default(), cli.verbose).await;
        }
        eprintln!(
            "lockphone: give a command (lockphone --help), or run it on a terminal for the UI"
        );
        return EXIT_CONFIG;
    };
    match command {
        Command::Register(args) => register::run(args).await,
        Command::Trust(args) => trust::run(args),
        Command::Call(args) => call::run_call(args).await,
        Command::Answer(args) => call::run_answer(args).await,
        Command::Loop(args) => call_loop::run(*args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Login(args) => login::run_login(args).await,
        Command::Logout(args) => login::run_logout(args).await,
        Command::Enroll(args) => enroll::run(*args).await,
        Command::CapfServer(args) => capf_server::run(args).await,
        Command::Ui(args) => ui::run(args, cli.verbose).await,
        Command::Contacts(args) => contacts::run(args).await,
        Command::Daemon(args) => daemon::run(args).await,
    }
}

/// Sets up `tracing` on stderr.
pub(crate) fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "lockphone=warn,lockphone_sip=warn",
        1 => "lockphone=debug,lockphone_sip=debug",
        _ => "lockphone=trace,lockphone_sip=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
