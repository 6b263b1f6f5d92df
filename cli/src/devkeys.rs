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
