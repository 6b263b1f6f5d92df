//! `mpp keys generate DIR`.

use crate::{other, CliError};
use clap::Subcommand;
use mpp_core::signature::{
    generate_key_pair, private_key_pem, public_key_base64_der, public_key_pem,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Key commands.
#[derive(Subcommand)]
pub enum KeysCommand {
    /// Write an RSA-2048 key pair in the formats Alipay+ uses: `private_key.pem` (PKCS#8),
    /// `public_key.pem` (SPKI) and `public_key.b64` (Base64 DER, no armour, as Alipay+ hands out
    /// and asks for).
    Generate {
        /// Where to write the three files (created if missing; existing keys are not overwritten).
        dir: PathBuf,
    },
}

pub fn run(command: KeysCommand) -> Result<ExitCode, CliError> {
    match command {
        KeysCommand::Generate { dir } => {
            let written = generate(&dir)?;
            for f in written {
                println!("{}", f.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Generates a key pair into `dir`; refuses to overwrite an existing private key.
pub fn generate(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let private = dir.join("private_key.pem");
    if private.exists() {
        return Err(CliError::Other(format!(
            "{} exists: not overwriting a key",
            private.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(CliError::io(dir))?;
    let key = generate_key_pair(2048).map_err(other)?;
    let public = key.to_public_key();
    let files = [
        (private, private_key_pem(&key)),
        (dir.join("public_key.pem"), public_key_pem(&public)),
        (
            dir.join("public_key.b64"),
            format!("{}\n", public_key_base64_der(&public)),
        ),
    ];
    let mut written = Vec::new();
    for (path, text) in files {
        std::fs::write(&path, text).map_err(CliError::io(&path))?;
        written.push(path);
    }
    restrict(&written[0])?;
    Ok(written)
}

#[cfg(unix)]
pub(crate) fn restrict(path: &Path) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(CliError::io(path))
}

#[cfg(not(unix))]
pub(crate) fn restrict(_path: &Path) -> Result<(), CliError> {
    Ok(())
}
