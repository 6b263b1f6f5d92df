//! The development keys `mpp serve` makes on a first start: one pair for the MPP (signs our
//! answers) and one for a simulated Alipay+ (signs requests made with `mpp call`).

use crate::keys::generate;
use crate::CliError;
use std::path::{Path, PathBuf};

/// Where the two development key pairs live.
pub struct DevKeys {
    pub mpp_dir: PathBuf,
    pub alipay_dir: PathBuf,
    pub created: bool,
}

impl DevKeys {
    /// Creates the pairs under `state_dir` unless they are there already.
    pub fn ensure(state_dir: &Path) -> Result<DevKeys, CliError> {
        let keys = DevKeys {
            mpp_dir: state_dir.join("mpp"),
            alipay_dir: state_dir.join("alipay"),
            created: false,
        };
        let mut created = false;
        for dir in [&keys.mpp_dir, &keys.alipay_dir] {
            if !dir.join("private_key.pem").exists() {
                generate(dir)?;
                created = true;
            }
        }
        Ok(DevKeys { created, ..keys })
    }
}

/// The development token key (`mpp_core::token_mac`): 32 random bytes in hex at
/// `<state_dir>/mpp/token_mac_key` (mode 0600), made on the first start and kept, so tokens
/// issued before a restart can still be named (consultUnbinding) after it.
pub fn ensure_token_key(state_dir: &Path) -> Result<PathBuf, CliError> {
    let path = state_dir.join("mpp").join("token_mac_key");
    if !path.exists() {
        let key =
            mpp_core::bindings::random_bytes::<32>().map_err(|e| CliError::Other(e.to_string()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(CliError::io(dir))?;
        }
        let text: String = key.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(&path, text).map_err(CliError::io(&path))?;
        crate::keys::restrict(&path)?;
    }
    Ok(path)
}
