//! The test server's device table: one entry per device with its scheduled operation and
//! authentication mode, like capfd's `devices` table (reference §9).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::capf::message::{Curve, KeyRequest};

/// The operation scheduled for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// Issue a new LSC.
    Install,
    /// Collect the device's LSC.
    Fetch,
    /// Have the device delete its LSC.
    Delete,
    /// Nothing.
    #[default]
    None,
}

/// How a device must authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// A one-time authentication string.
    Password,
    /// No credentials (null string).
    #[default]
    NoPassword,
    /// An existing certificate issued by the issuer or a verify CA.
    Certificate,
}

/// One device entry.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The device name, compared exactly.
    pub name: String,
    /// The scheduled operation.
    #[serde(default)]
    pub operation: Operation,
    /// The authentication mode.
    #[serde(default)]
    pub authentication: AuthMode,
    /// The one-time authentication string (password mode); used up by a successful install.
    pub password: Option<String>,
    /// RSA key size to ask for (default 2048 when no curve is set).
    pub key_size: Option<u16>,
    /// EC curve to ask for instead ("P-256", "P-384", "P-521").
    pub curve: Option<Curve>,
    /// The last issued or fetched certificate (DER), kept by the server.
    #[serde(skip)]
    pub certificate: Option<Vec<u8>>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("name", &self.name)
            .field("operation", &self.operation)
            .field("authentication", &self.authentication)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("key", &self.key_request())
            .finish()
    }
}

impl Device {
    /// A device scheduled for an install.
    pub fn install(name: &str, authentication: AuthMode, key: KeyRequest) -> Device {
        let (key_size, curve) = match key {
            KeyRequest::Ec(curve) => (None, Some(curve)),
            KeyRequest::Rsa(bits) => (Some(bits), None),
            _ => (Some(2048), None),
        };
        Device {
            name: name.to_owned(),
            operation: Operation::Install,
            authentication,
            password: None,
            key_size,
            curve,
            certificate: None,
        }
    }

    /// With this authentication string.
    pub fn with_password(mut self, password: &str) -> Device {
        self.password = Some(password.to_owned());
        self
    }

    /// With this operation.
    pub fn with_operation(mut self, operation: Operation) -> Device {
        self.operation = operation;
        self
    }

    /// The key the server asks for.
    pub fn key_request(&self) -> KeyRequest {
        match (self.curve, self.key_size) {
            (Some(curve), _) => KeyRequest::Ec(curve),
            (None, Some(bits)) => KeyRequest::Rsa(bits),
            (None, None) => KeyRequest::Rsa(2048),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceFile {
    #[serde(default, rename = "device")]
    devices: Vec<Device>,
}

/// All devices, by name.
#[derive(Debug, Default)]
pub struct DeviceTable {
    devices: HashMap<String, Device>,
}

impl DeviceTable {
    /// Parses `[[device]]` tables.
    pub fn from_toml(text: &str) -> Result<DeviceTable, String> {
        let file: DeviceFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut table = DeviceTable::default();
        for device in file.devices {
            if device.authentication == AuthMode::Password && device.password.is_none() {
                return Err(format!(
                    "device {}: password mode needs `password`",
                    device.name
                ));
            }
            table.insert(device);
        }
        Ok(table)
    }

    /// Reads a devices file.
    pub fn load(path: &Path) -> Result<DeviceTable, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        DeviceTable::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Adds or replaces a device (re-arming it).
    pub fn insert(&mut self, device: Device) {
        self.devices.insert(device.name.clone(), device);
    }

    /// A device.
    pub fn get(&self, name: &str) -> Option<&Device> {
        self.devices.get(name)
    }

    /// A device, mutable.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Device> {
        self.devices.get_mut(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_devices_file_parses() {
        let table =
            DeviceTable::from_toml(include_str!("../../../examples/capf-devices.toml")).unwrap();
        let phone = table.get("SEP0A0B0C0D0E0F").unwrap();
        assert_eq!(phone.authentication, AuthMode::Password);
        assert_eq!(phone.key_request(), KeyRequest::Rsa(2048));
        assert!(!format!("{phone:?}").contains("123456"));
        let jabber = table.get("CSFALICE").unwrap();
        assert_eq!(jabber.key_request(), KeyRequest::Ec(Curve::P256));
        assert_eq!(
            table.get("SEP0A0B0C0D0E10").unwrap().authentication,
            AuthMode::Certificate
        );
    }

    #[test]
    fn password_mode_without_password_is_refused() {
        let err =
            DeviceTable::from_toml("[[device]]\nname = \"x\"\nauthentication = \"password\"\n")
                .unwrap_err();
        assert!(err.contains("needs `password`"), "{err}");
    }
}
