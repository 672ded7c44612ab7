//! `lockphone contacts search TEXT`: the account's contacts (config file and LDAP directory)
//! matching a text, one per line or as JSON lines.

use lockphone::contacts::{Contact, ContactSource, ContactsError, Directory};

use super::output::{certificate_lines, print_line};
use super::start::{fail, load_account};
use super::{AccountArgs, EXIT_CONFIG, EXIT_OK, EXIT_REFUSED, EXIT_TLS, EXIT_UNREACHABLE};

/// Arguments of `lockphone contacts`.
#[derive(Debug, clap::Args)]
pub(crate) struct ContactsArgs {
    #[command(subcommand)]
    action: ContactsAction,
}

#[derive(Debug, clap::Subcommand)]
enum ContactsAction {
    /// Find contacts whose name, SIP URI or phone number contains TEXT (empty: list the
    /// config file's contacts).
    Search {
        #[command(flatten)]
        account: AccountArgs,
        /// What to look for.
        text: String,
    },
}

/// Runs the command; returns the exit code.
pub(crate) async fn run(args: ContactsArgs) -> u8 {
    match args.action {
        ContactsAction::Search { account, text } => search(&account, &text).await,
    }
}

async fn search(args: &AccountArgs, text: &str) -> u8 {
    let account = match load_account(&args.config, args.account.as_deref()) {
        Ok(account) => account,
        Err(code) => return code,
    };
    // Nothing is sent while setting up: every failure here is the configuration's.
    let directory = match Directory::from_config(&account) {
        Ok(directory) => directory,
        Err(e) => return fail(&e.to_string(), EXIT_CONFIG),
    };
    let found = match directory.search(text).await {
        Ok(found) => found,
        Err(e) => {
            let code = exit_code(&e);
            if code == EXIT_TLS
                && let Some(cert) = directory.pending_decision()
            {
                eprintln!(
                    "lockphone: the directory's certificate:{}\n  to trust it: add its CA to directory.ca_file, or pin the sha256 in tls.pinned_sha256",
                    certificate_lines(&cert)
                );
            }
            return fail(&e.to_string(), code);
        }
    };
    if found.is_empty() {
        eprintln!("lockphone: no contact matches `{}`", text.trim());
    }
    if args.json {
        for contact in &found {
            match serde_json::to_string(contact) {
                Ok(line) => print_line(&line),
                Err(e) => eprintln!("lockphone: cannot encode a contact: {e}"),
            }
        }
    } else {
        print_table(&found);
    }
    EXIT_OK
}

/// Name, SIP URI, phone and source in aligned columns (`-` for an unknown field).
fn print_table(contacts: &[Contact]) {
    let width = |f: &dyn Fn(&Contact) -> usize| contacts.iter().map(f).max().unwrap_or(0);
    let name_w = width(&|c| c.name.chars().count());
    let uri_w = width(&|c| c.sip_uri.as_deref().map_or(1, |u| u.chars().count()));
    let phone_w = width(&|c| c.phone.as_deref().map_or(1, |p| p.chars().count()));
    for c in contacts {
        let source = match c.source {
            ContactSource::Config => "config",
            ContactSource::Directory => "directory",
        };
        let line = format!(
            "{:name_w$}  {:uri_w$}  {:phone_w$}  {source}",
            c.name,
            c.sip_uri.as_deref().unwrap_or("-"),
            c.phone.as_deref().unwrap_or("-"),
        );
        print_line(line.trim_end());
    }
}

/// The exit code of a failed search: 2 config, 3 the server refused (bind or search),
/// 4 TLS, 5 unreachable or too slow.
fn exit_code(error: &ContactsError) -> u8 {
    match error {
        ContactsError::Tls { .. } => EXIT_TLS,
        ContactsError::BindRefused { .. } | ContactsError::SearchFailed { .. } => EXIT_REFUSED,
        ContactsError::Unreachable { .. } | ContactsError::Timeout { .. } => EXIT_UNREACHABLE,
        _ => EXIT_CONFIG,
    }
}
