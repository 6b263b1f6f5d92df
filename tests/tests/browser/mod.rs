//! Headless Chromium for the process tests (Debian's `chromium` and `chromedriver`, driven over
//! WebDriver on 127.0.0.1 with fantoccini): `binding_e2e.rs` and `merchant_binding_e2e.rs`.
//! Chromium comes from `bash .ci/chromium.sh install`; without it the tests fail saying so.

#![allow(dead_code)] // each test binary uses its part

use fantoccini::ClientBuilder;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Polls of chromedriver's `/status` while it starts, 100 ms apart.
const DRIVER_START_POLLS_MAX: u32 = 100;

/// chromedriver on a free loopback port; killed on drop.
pub struct Driver {
    child: Child,
    /// chromedriver's URL.
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn chromium_binary() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

pub async fn start_driver() -> Driver {
    let which = Command::new("chromedriver").arg("--version").output();
    if which.is_err() || chromium_binary().is_none() {
        panic!(
            "Chromium or chromedriver is not installed: these tests need a real browser. \
             Run `bash .ci/chromium.sh install` (Debian's chromium and chromium-driver)."
        );
    }
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    let client = mpp_client::http_client(Duration::from_secs(2)).unwrap();
    for _ in 0..DRIVER_START_POLLS_MAX {
        if let Ok(r) = client.get(format!("{}/status", driver.url)).send().await {
            if r.status().is_success() {
                return driver;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on {}", driver.url);
}

pub async fn browser(driver: &Driver, profile: &std::path::Path) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium_binary().unwrap(),
            // Headless; as root in a namespace without user namespaces, no sandbox.
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=390,844", format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("starting headless Chromium through chromedriver: {e}"))
}

/// The user's part on the wallet's authorization page: types `login_id` and `pin` and presses
/// "approve".
pub async fn log_in_and_approve(c: &fantoccini::Client, login_id: &str, pin: &str) {
    for (id, text) in [("loginId", login_id), ("pin", pin)] {
        c.find(fantoccini::Locator::Id(id))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    c.find(fantoccini::Locator::Id("approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}
