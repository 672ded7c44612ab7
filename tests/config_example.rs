//! The example configuration in the repository stays valid and documents every field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lockphone::config::{AuthConfig, Config, TransportKind};

#[test]
fn example_config_parses_and_resolves_paths() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lockphone.toml");
    let config = Config::load(&path).unwrap();
    let account = config.account(Some("alice")).unwrap();
    assert_eq!(account.transport, TransportKind::Tls);
    assert_eq!(
        account.registrar_uri().unwrap().to_string(),
        "sip:example.test:5061;transport=tls"
    );
    let ca = account.tls.ca_file.as_ref().unwrap();
    assert!(
        ca.is_absolute() && ca.ends_with("examples/ca.crt"),
        "{}",
        ca.display()
    );
    match &account.auth {
        AuthConfig::Digest {
            username,
            password_file,
            ..
        } => {
            assert_eq!(username.as_deref(), Some("alice"));
            assert!(
                password_file
                    .as_ref()
                    .unwrap()
                    .ends_with("examples/alice.password")
            );
        }
        other => panic!("expected digest auth, got {other:?}"),
    }
}

#[test]
fn every_documented_field_is_a_real_field() {
    // Uncomment every commented-out `key = value` line of the example: the result must still
    // parse, so the documentation never names a field that does not exist.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lockphone.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let uncommented: String = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            // `password` and `token_file` are alternatives of fields already set, so they stay out.
            Some(rest) if is_setting(rest) => rest.to_owned(),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        uncommented.contains("client_key = "),
        "the example documents client_key"
    );
    Config::from_toml(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
}

/// A commented-out `key = value` line (not prose), other than the alternatives `password` and
/// `token_file`, which would conflict with the fields already set.
fn is_setting(line: &str) -> bool {
    let Some((key, _)) = line.split_once(" = ") else {
        return false;
    };
    let is_key = !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    is_key && key != "password" && key != "token_file"
}
