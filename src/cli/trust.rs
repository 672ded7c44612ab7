//! `lockphone trust list|show|remove|import`: the user's trust store.

use std::path::PathBuf;

use lockphone::tls::load_certificate_chain;
use lockphone::trust::import::import_certificates;
use lockphone::trust::store::TrustStore;

use super::{EXIT_CONFIG, EXIT_OK};

/// Arguments of `lockphone trust`.
#[derive(Debug, clap::Args)]
pub(crate) struct TrustArgs {
    /// The trust store file (default: $XDG_CONFIG_HOME/lockphone/trusted-servers.json).
    #[arg(long, global = true)]
    store: Option<PathBuf>,
    #[command(subcommand)]
    action: TrustAction,
}

#[derive(Debug, clap::Subcommand)]
enum TrustAction {
    /// List the trusted server certificates.
    List,
    /// Show one entry as JSON.
    Show {
        /// The server identity (SIP domain or IP address).
        identity: String,
    },
    /// Forget the certificate trusted for a server, or an imported CA (by its sha256).
    Remove {
        /// The server identity, or the SHA-256 fingerprint of an imported CA certificate.
        identity: String,
    },
    /// Import every certificate of a PEM bundle: CA certificates become trust anchors,
    /// server certificates are trusted for the SIP identities their subjectAltNames name.
    Import {
        /// Trust the (single) server certificate for this identity instead of its SANs.
        #[arg(long)]
        identity: Option<String>,
        /// The PEM file (one certificate or a bundle).
        file: PathBuf,
    },
}

/// Runs the command; returns the exit code.
pub(crate) fn run(args: TrustArgs) -> u8 {
    match execute(args) {
        Ok(()) => EXIT_OK,
        Err(message) => {
            eprintln!("lockphone: {message}");
            EXIT_CONFIG
        }
    }
}

fn execute(args: TrustArgs) -> Result<(), String> {
    let path = match args.store {
        Some(path) => path,
        None => TrustStore::default_path().map_err(|e| e.to_string())?,
    };
    let mut store = TrustStore::open(&path).map_err(|e| e.to_string())?;
    match args.action {
        TrustAction::List => {
            if store.entries().is_empty() && store.anchors().is_empty() {
                println!("no trusted certificates in {}", path.display());
            }
            for entry in store.entries() {
                println!(
                    "{}  {}  {}  (until {})",
                    entry.identity, entry.sha256, entry.subject, entry.not_after
                );
            }
            for anchor in store.anchors() {
                println!(
                    "CA  {}  {}  (until {})",
                    anchor.sha256, anchor.subject, anchor.not_after
                );
            }
        }
        TrustAction::Show { identity } => {
            let text = match (store.get(&identity), store.anchor(&identity)) {
                (Some(entry), _) => serde_json::to_string_pretty(entry),
                (None, Some(anchor)) => serde_json::to_string_pretty(anchor),
                (None, None) => {
                    return Err(format!(
                        "no trusted certificate for `{identity}` in {}",
                        path.display()
                    ));
                }
            };
            println!("{}", text.map_err(|e| e.to_string())?);
        }
        TrustAction::Remove { identity } => {
            if !store.remove(&identity) && !store.remove_anchor(&identity) {
                return Err(format!(
                    "no trusted certificate for `{identity}` in {}",
                    path.display()
                ));
            }
            store.save().map_err(|e| e.to_string())?;
            println!("removed {identity}");
        }
        TrustAction::Import { identity, file } => {
            let chain = load_certificate_chain(&file).map_err(|e| e.to_string())?;
            let report = import_certificates(&mut store, &chain, identity.as_deref())
                .map_err(|e| format!("{}: {e}; nothing imported", file.display()))?;
            store.save().map_err(|e| e.to_string())?;
            for (subject, sha256) in &report.anchors {
                println!("CA added as trust anchor: {subject} (sha256 {sha256})");
            }
            for (subject, sha256) in &report.known_anchors {
                println!("CA already trusted: {subject} (sha256 {sha256})");
            }
            for (identity, subject, sha256) in &report.servers {
                println!("trusting {subject} for {identity} (sha256 {sha256})");
            }
            println!(
                "imported {} certificate(s) from {}: {} CA anchor(s), {} server identity entr{} into {}",
                chain.len(),
                file.display(),
                report.anchors.len() + report.known_anchors.len(),
                report.servers.len(),
                if report.servers.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                path.display()
            );
        }
    }
    Ok(())
}
