//! `mpp serve` as a real process on a free loopback port, and signed clients for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use mpp_client::{SignedClient, SignedResponse};
use mpp_core::signature::{load_private_key, load_public_key, LocalSigner};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long `mpp serve` may take to print its address (a cold start with key generation, or
/// DynamoDB Local creating tables).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `mpp` binary. `.ci/test.sh` builds every binary before the tests (`cargo build
/// --workspace --bins`); when running one test by hand, build it first the same way. It is
/// built here only if missing: a `cargo build -p mpp-cli` from inside a test would resolve
/// features differently from the workspace build and rebuild half the tree each time.
pub fn mpp_binary() -> PathBuf {
    let path = workspace().join("target/debug/mpp");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "--offline", "--workspace", "--bins"])
            .current_dir(workspace())
            .status()
            .unwrap();
        assert!(status.success(), "building mpp failed");
    }
    path
}

/// The DynamoDB Local endpoint, or `None` (the caller skips) outside CI; in CI its absence is a
/// failure, so the DynamoDB half of a suite can never silently not run.
pub fn dynamodb_endpoint() -> Option<String> {
    match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok() => {
            panic!("DYNAMODB_ENDPOINT is not set: run the tests through .ci/test.sh")
        }
        _ => {
            eprintln!("DYNAMODB_ENDPOINT is not set: skipping (bash .ci/dynamodb-local.sh run cargo test ...)");
            None
        }
    }
}

/// Spawns `command` (in the workspace, `RUST_LOG=warn`, stdout piped) and waits, bounded by
/// [`START_TIMEOUT`], for its `listening on URL` line; keeps draining stdout afterwards.
// The child is waited on by its owner's `Drop`; a start that panics ends the test process.
#[allow(clippy::zombie_processes)]
fn spawn_listening(mut command: Command, what: &str) -> (Child, String, Vec<String>) {
    let mut child = command
        .current_dir(workspace())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut banner = Vec::new();
    loop {
        let left = START_TIMEOUT
            .checked_sub(started.elapsed())
            .unwrap_or_else(|| panic!("{what} did not start: {banner:?}"));
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{what} did not start: {banner:?}"));
        banner.push(line.clone());
        if let Some(url) = line.strip_prefix("listening on ") {
            let url = url.trim().to_string();
            // Keep draining stdout so the process never blocks on a full pipe.
            std::thread::spawn(move || while rx.recv().is_ok() {});
            return (child, url, banner);
        }
    }
}

/// A running `mpp hub` (a real process) on a free loopback port.
pub struct HubProcess {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
}

impl HubProcess {
    /// Starts `mpp hub --addr 127.0.0.1:0 --state-dir STATE EXTRA...` (the keys of `state_dir`,
    /// shared with an `mpp serve` started on it).
    pub fn start(state_dir: &Path, extra: &[&str]) -> HubProcess {
        let mut command = Command::new(mpp_binary());
        command
            .arg("hub")
            .args(["--addr", "127.0.0.1:0", "--state-dir"])
            .arg(state_dir)
            .args(extra);
        let (child, url, _) = spawn_listening(command, "mpp hub");
        HubProcess { url, child }
    }
}

impl HubProcess {
    /// A loopback address free now, for a hub that `mpp serve` must know before the hub starts
    /// (consultUnbinding and authNotify go from the MPP to the hub, and the hub to the MPP).
    /// Another process could take the port in between: a test then fails at start, plainly.
    pub fn reserve_addr() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    }

    /// Starts `mpp hub --addr ADDR --state-dir STATE EXTRA...`.
    pub fn start_at(state_dir: &Path, addr: &str, extra: &[&str]) -> HubProcess {
        let mut command = Command::new(mpp_binary());
        command
            .arg("hub")
            .args(["--addr", addr, "--state-dir"])
            .arg(state_dir)
            .args(extra);
        let (child, url, _) = spawn_listening(command, "mpp hub");
        HubProcess { url, child }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `mpp ARGS...` in the workspace to completion (each command bounds itself: client
/// timeouts, order life, linger) and returns its exit code and stdout and stderr.
pub fn run_mpp(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(mpp_binary())
        .args(args)
        .current_dir(workspace())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `mpp serve`.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its development keys and files.
    pub state_dir: tempfile::TempDir,
    child: Child,
    /// Everything it printed to stdout so far (the banner).
    pub banner: Vec<String>,
}

impl Server {
    /// Starts `mpp serve --addr 127.0.0.1:0 --state-dir <tmp> EXTRA...` and waits for its address.
    // The child is waited on by `kill` (and `Drop`); a start that panics ends the test process.
    #[allow(clippy::zombie_processes)]
    pub fn start(extra: &[&str]) -> Server {
        let state_dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(mpp_binary());
        command
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--state-dir"])
            .arg(state_dir.path())
            .args(extra);
        let (child, url, banner) = spawn_listening(command, "mpp serve");
        Server {
            url,
            state_dir,
            child,
            banner,
        }
    }

    /// Starts with the harness keys (`harness::keys()`) instead of fresh development keys, so a
    /// loopback receiver signing as the harness Alipay+ is trusted.
    pub fn start_with_harness_keys(extra: &[&str]) -> Server {
        use mpp_core::signature::{private_key_pem, public_key_pem};
        let k = crate::harness::keys();
        let keys = tempfile::tempdir().unwrap();
        let files = [
            ("alipay/private_key.pem", private_key_pem(&k.alipay_private)),
            ("alipay/public_key.pem", public_key_pem(&k.alipay_public)),
            ("mpp/private_key.pem", private_key_pem(&k.mpp_private)),
            ("mpp/public_key.pem", public_key_pem(&k.mpp_public)),
        ];
        for (name, text) in files {
            let path = keys.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let p = |name: &str| keys.path().join(name).display().to_string();
        let (signing, alipay) = (p("mpp/private_key.pem"), p("alipay/public_key.pem"));
        let mut args: Vec<&str> = vec!["--signing-key", &signing, "--alipay-public-key", &alipay];
        args.extend_from_slice(extra);
        let server = Server::start(&args);
        // The client reads the keys from the state dir: put the harness ones there.
        for name in ["alipay/private_key.pem", "mpp/public_key.pem"] {
            std::fs::copy(keys.path().join(name), server.state_dir.path().join(name)).unwrap();
        }
        server
    }

    /// A client that signs as the simulated Alipay+ and verifies with the MPP's key.
    pub fn alipay(&self) -> Alipay {
        let dir = self.state_dir.path();
        let key =
            load_private_key(&std::fs::read_to_string(dir.join("alipay/private_key.pem")).unwrap())
                .unwrap();
        let mpp_public =
            load_public_key(&std::fs::read_to_string(dir.join("mpp/public_key.pem")).unwrap())
                .unwrap();
        let client = SignedClient::new(
            &self.url,
            "TEST_ALIPAYPLUS_CLIENT",
            Arc::new(LocalSigner::new(key, 1)),
            Some(mpp_public),
            Duration::from_secs(10),
        )
        .unwrap();
        Alipay { client }
    }

    /// Sends SIGINT (Ctrl-C) and waits for the exit status (bounded).
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                return exit;
            }
            assert!(
                Instant::now() < deadline,
                "mpp serve did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server with SIGKILL (a crash) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Plays Alipay+ against a server.
pub struct Alipay {
    /// The signed client.
    pub client: SignedClient,
}

impl Alipay {
    /// POSTs `body` to `/aps/api/v1/payments/<api>`, asserts the answer is a signed envelope,
    /// returns it.
    pub async fn call(&self, api: &str, body: &Value) -> Value {
        self.call_path(
            &format!("{}/{api}", mpp_core::operations::PATH_PREFIX),
            body,
        )
        .await
    }

    /// POSTs `body` to the full `path` (an API outside the payments prefix, e.g.
    /// `/aps/api/v1/users/sendOTP`), asserts the answer is a signed envelope, returns it.
    pub async fn call_path(&self, path: &str, body: &Value) -> Value {
        let bytes = serde_json::to_vec(body).unwrap();
        let answer = self.client.call(path, &bytes).await.unwrap();
        answer
            .signature
            .as_ref()
            .unwrap_or_else(|e| panic!("answer signature: {e}"));
        let json = answer
            .json()
            .unwrap_or_else(|| panic!("not JSON: {}", String::from_utf8_lossy(&answer.body)));
        assert!(
            json["result"]["resultCode"].is_string(),
            "not an envelope: {json}"
        );
        json
    }

    /// POSTs `body` to the operation's own path (`/aps/api/v1/authorizations/applyToken`, ...),
    /// asserts the answer is a signed envelope, returns it.
    pub async fn call_op(&self, op: &mpp_core::operations::Operation, body: &Value) -> Value {
        let bytes = serde_json::to_vec(body).unwrap();
        let answer = self.client.call(&op.path(), &bytes).await.unwrap();
        answer
            .signature
            .as_ref()
            .unwrap_or_else(|e| panic!("answer signature: {e}"));
        let json = answer.json().unwrap();
        assert!(
            json["result"]["resultCode"].is_string(),
            "not an envelope: {json}"
        );
        json
    }

    /// POSTs without checking.
    pub async fn raw(&self, api: &str, body: &Value) -> SignedResponse {
        let bytes = serde_json::to_vec(body).unwrap();
        self.client
            .call(
                &format!("{}/{api}", mpp_core::operations::PATH_PREFIX),
                &bytes,
            )
            .await
            .unwrap()
    }
}
