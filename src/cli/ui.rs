//! `lockphone ui` (and `lockphone` alone on a terminal): the terminal user interface.

use std::io::IsTerminal;
use std::path::PathBuf;

use lockphone::contacts::Directory;
use lockphone::tui::{self, AudioChoice, UiOptions};

use super::start::{exit_code_for_error, fail, load_account};
use super::{EXIT_CONFIG, EXIT_INTERNAL, EXIT_OK};

/// Arguments of `lockphone ui`.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct UiArgs {
    /// The configuration file (default: lockphone.toml in the user's config folder,
    /// ~/.config/lockphone).
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    /// The account to use (default: the first one in the file).
    #[arg(long, short = 'a')]
    account: Option<String>,
    /// The audio of calls: a sound card's name or id, `default` (the system's sound card),
    /// `tone` (a 440 Hz test tone, nothing played) or `silence`. Changeable in the UI (a).
    #[arg(long, default_value = "default")]
    audio: String,
}

/// Whether `lockphone` without a subcommand should start the UI: stdin and stdout are a
/// terminal.
pub(crate) fn on_a_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Runs the UI; returns the exit code.
pub(crate) async fn run(args: UiArgs, verbose: u8) -> u8 {
    let path = match args.config.clone().or_else(default_config) {
        Some(path) => path,
        None => return fail("no configuration: give one with -c FILE", EXIT_CONFIG),
    };
    let account = match load_account(&path, args.account.as_deref()) {
        Ok(account) => account,
        Err(code) => return code,
    };
    let audio = match args.audio.as_str() {
        "" | "default" => default_audio(),
        "tone" => AudioChoice::Tone,
        "silence" => AudioChoice::Silence,
        name => AudioChoice::Device(name.to_owned()),
    };
    let directory = match Directory::from_config(&account) {
        Ok(directory) => Some(directory),
        Err(e) => return fail(&format!("contacts: {e}"), EXIT_CONFIG),
    };
    let options = UiOptions {
        account,
        audio,
        directory,
        log_filter: match verbose {
            0 => "lockphone=warn,lockphone_sip=warn",
            _ => "lockphone=debug,lockphone_sip=info",
        }
        .to_owned(),
    };
    match tui::run(options).await {
        Ok(()) => EXIT_OK,
        Err(tui::TuiError::Phone(e)) => fail(&e.to_string(), exit_code_for_error(&e)),
        Err(e) => fail(&e.to_string(), EXIT_INTERNAL),
    }
}

fn default_config() -> Option<PathBuf> {
    lockphone::user_files::lockphone_config_dir().map(|dir| dir.join("lockphone.toml"))
}

/// The system's sound card when there is one, else a test tone (a headless machine).
fn default_audio() -> AudioChoice {
    let has_card = lockphone_media::device::list_devices()
        .is_ok_and(|devices| devices.iter().any(|d| d.default_output || d.default_input));
    if has_card {
        AudioChoice::Device("default".to_owned())
    } else {
        AudioChoice::Tone
    }
}
