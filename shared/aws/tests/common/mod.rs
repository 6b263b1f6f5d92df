//! Helpers shared by the moto tests (`kms_moto.rs`, `messaging_moto.rs`).

/// The moto endpoint, or `None` (skip) outside CI when it is not set.
pub fn moto_endpoint() -> Option<String> {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(url) if !url.trim().is_empty() => {
            let loopback = ["http://127.", "http://localhost:", "http://[::1]:"];
            assert!(
                loopback.iter().any(|p| url.starts_with(p)),
                "MOTO_ENDPOINT={url} is not a loopback address: tests talk to 127.0.0.1 only"
            );
            Some(url)
        }
        _ if std::env::var_os("CI").is_some() => panic!(
            "MOTO_ENDPOINT is not set and CI is: start moto first with `eval \"$(bash .ci/moto.sh)\"`"
        ),
        _ => {
            eprintln!("skipping: MOTO_ENDPOINT is not set (start moto with `eval \"$(bash .ci/moto.sh)\"`)");
            None
        }
    }
}
