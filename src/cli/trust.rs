//! `lockphone trust list|show|remove|import`: the user's trust store.

use std::path::PathBuf;

use lockphone::tls::{CertificateSummary, load_certificate_chain};
use lockphone::trust::store::{TrustStore, TrustedCertificate};

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
    /// Forget the certificate trusted for a server.
    Remove {
        /// The server identity.
        identity: String,
    },
    /// Trust the (first) certificate of a PEM file for a server identity.
    Import {
        /// The server identity the certificate is trusted for (SIP domain or IP address).
        #[arg(long)]
        identity: String,
        /// The PEM file.
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
            if store.entries().is_empty() {
                println!("no trusted server certificates in {}", path.display());
            }
            for entry in store.entries() {
                println!(
                    "{}  {}  {}  (until {})",
                    entry.identity, entry.sha256, entry.subject, entry.not_after
                );
            }
        }
        TrustAction::Show { identity } => {
            let entry = store.get(&identity).ok_or_else(|| {
                format!(
                    "no trusted certificate for `{identity}` in {}",
                    path.display()
                )
            })?;
            println!(
                "{}",
                serde_json::to_string_pretty(entry).map_err(|e| e.to_string())?
            );
        }
        TrustAction::Remove { identity } => {
            if !store.remove(&identity) {
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
            let cert = chain
                .first()
                .ok_or_else(|| format!("{} holds no certificate", file.display()))?;
            let summary = CertificateSummary::of(cert.as_ref(), "imported by the user");
            store.insert(TrustedCertificate::new(
                &identity,
                &summary.sha256,
                &summary.subject,
                &summary.issuer,
                &summary.not_after,
            ));
            store.save().map_err(|e| e.to_string())?;
            println!(
                "trusting {} for {identity} (sha256 {})",
                summary.subject, summary.sha256
            );
        }
    }
    Ok(())
}
