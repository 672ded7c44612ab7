//! `lockphone capf-server`: the CAPF test server, for labs and integration tests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lockphone::capf::server::ca::{IssuingCa, PemPair};
use lockphone::capf::server::devices::DeviceTable;
use lockphone::capf::server::{CapfServer, ServerOptions};
use lockphone::user_files::write_private_atomic;

use super::{EXIT_CONFIG, EXIT_OK};

/// Arguments of `lockphone capf-server`.
#[derive(Debug, clap::Args)]
pub(crate) struct CapfServerArgs {
    /// Folder with ca.crt + ca.key (the issuing CA) and capf.crt + capf.key (the TLS
    /// certificate); missing pairs are generated (EC P-256), keys with mode 0600.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The devices file: `[[device]]` tables with name, operation, authentication, password,
    /// key_size or curve (see `lockphone capf-server --help` and the README).
    #[arg(long, value_name = "FILE")]
    devices: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3804")]
    listen: String,
    /// Validity of issued LSCs, days.
    #[arg(long, default_value_t = 365)]
    validity_days: u32,
    /// Behave like CUCM where it differs from capfd: no AUTH_TYPE, accept VERSION 2, reason 7
    /// when nothing is scheduled.
    #[arg(long)]
    cucm: bool,
    /// Extra CA (PEM) trusted for existing-certificate authentication; repeatable.
    #[arg(long, value_name = "FILE")]
    verify_ca: Vec<PathBuf>,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    duration: Option<u64>,
}

fn write_pair(dir: &Path, name: &str, pair: &PemPair) -> Result<(), String> {
    std::fs::write(dir.join(format!("{name}.crt")), &pair.certificate)
        .map_err(|e| format!("cannot write {name}.crt: {e}"))?;
    write_private_atomic(&dir.join(format!("{name}.key")), pair.key.as_bytes())
        .map_err(|e| format!("cannot write {name}.key: {e}"))
}

fn read_pair(dir: &Path, name: &str) -> Result<Option<PemPair>, String> {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    if !cert.exists() {
        return Ok(None);
    }
    lockphone::tls::check_private(&key).map_err(|e| e.to_string())?;
    Ok(Some(PemPair {
        certificate: std::fs::read_to_string(&cert)
            .map_err(|e| format!("cannot read {}: {e}", cert.display()))?,
        key: std::fs::read_to_string(&key)
            .map_err(|e| format!("cannot read {}: {e}", key.display()))?,
    }))
}

async fn execute(args: CapfServerArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    let ca = match read_pair(&args.dir, "ca")? {
        Some(pair) => IssuingCa::from_pem(&pair.certificate, &pair.key)?,
        None => {
            let (ca, pair) = IssuingCa::generate("Lockphone Test CAPF CA")?;
            write_pair(&args.dir, "ca", &pair)?;
            ca
        }
    };
    let capf = match read_pair(&args.dir, "capf")? {
        Some(pair) => pair,
        None => {
            let pair = ca.capf_certificate("CAPF-lockphone-test")?;
            write_pair(&args.dir, "capf", &pair)?;
            pair
        }
    };
    let devices = DeviceTable::load(&args.devices)?;
    let mut options = ServerOptions {
        validity_days: args.validity_days,
        ..ServerOptions::default()
    };
    if args.cucm {
        options.send_auth_type = false;
        options.accepted_versions = vec![2, 3];
        options.nothing_scheduled_reason = 7;
    }
    for file in &args.verify_ca {
        options
            .verify_cas
            .extend(lockphone::tls::load_certificate_chain(file).map_err(|e| e.to_string())?);
    }
    let server = CapfServer::new(ca, &capf, devices, options)?;
    let addr = server.spawn(&args.listen).await?;
    println!(
        "CAPF server listening on {addr}; clients pin {} (or the issuer {}); LSCs are issued by {}",
        args.dir.join("capf.crt").display(),
        args.dir.join("ca.crt").display(),
        args.dir.join("ca.crt").display()
    );
    match args.duration {
        Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    Ok(())
}

/// Runs the command; returns the exit code.
pub(crate) async fn run(args: CapfServerArgs) -> u8 {
    match execute(args).await {
        Ok(()) => EXIT_OK,
        Err(message) => {
            eprintln!("lockphone: {message}");
            EXIT_CONFIG
        }
    }
}
