//! What the notify function reads besides [`Config`](crate::config::Config): its queues, the
//! default Alipay+ endpoint and where outbound calls may go (`mpp_core::outbound`). In a file of
//! its own so that `tests/tests/infra.rs` knows these variables belong to the notify function
//! only.

use crate::config::ConfigError;
use mpp_core::outbound::Destinations;

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

/// What the notify function reads besides [`Config`].
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The SQS queue retries wait in.
    pub retry_queue_url: String,
    /// The SQS queue of notifications given up on.
    pub dead_letter_queue_url: String,
    /// Alipay+'s notifyPayment endpoint, for payments without `paymentNotifyUrl`.
    pub default_url: String,
    /// Where outbound calls may go (`mpp_core::outbound`).
    pub destinations: Destinations,
}

impl NotifySettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<NotifySettings, ConfigError> {
        NotifySettings::from_settings(|k| std::env::var(k).ok())
    }

    /// Reads settings from `get`. The configured `ALIPAY_NOTIFY_URL` must itself pass the
    /// allow-list, or the function refuses to start (every notification would be refused).
    pub fn from_settings(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<NotifySettings, ConfigError> {
        let get = |k: &'static str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(k))
        };
        let default_url = get("ALIPAY_NOTIFY_URL")?;
        let destinations = match get("NOTIFY_ALLOW_HOSTS") {
            Ok(list) => Destinations::https_to(list.split(',').filter(|h| !h.trim().is_empty()))
                .map_err(|e| invalid("NOTIFY_ALLOW_HOSTS", e.to_string()))?,
            Err(_) => Destinations::alipay_default(Some(&default_url)),
        };
        destinations
            .check(&default_url)
            .map_err(|e| invalid("ALIPAY_NOTIFY_URL", format!("not allowed: {e}")))?;
        Ok(NotifySettings {
            retry_queue_url: get("NOTIFY_RETRY_QUEUE_URL")?,
            dead_letter_queue_url: get("NOTIFY_DEAD_LETTER_QUEUE_URL")?,
            default_url,
            destinations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn notify_settings_allow_alipay_by_default_and_only_the_list_when_given() {
        let base: Vec<(&str, &str)> = vec![
            (
                "ALIPAY_NOTIFY_URL",
                "https://open-sea-global.alipayplus.com/aps/api/v1/payments/notifyPayment",
            ),
            ("NOTIFY_RETRY_QUEUE_URL", "https://sqs/retry"),
            ("NOTIFY_DEAD_LETTER_QUEUE_URL", "https://sqs/dead"),
        ];
        let read = |extra: &[(&'static str, &'static str)]| {
            let vars: HashMap<&str, String> = base
                .iter()
                .chain(extra)
                .map(|(k, v)| (*k, v.to_string()))
                .collect();
            NotifySettings::from_settings(|n| vars.get(n).cloned())
        };
        let d = read(&[]).unwrap().destinations;
        assert!(d.check("https://open-na-global.alipayplus.com/x").is_ok());
        assert!(d.check("https://acquirer.example/notify").is_err());
        let listed = read(&[("NOTIFY_ALLOW_HOSTS", "acquirer.example, *.alipayplus.com")])
            .unwrap()
            .destinations;
        assert!(listed.check("https://acquirer.example/notify").is_ok());
        assert!(listed.check("http://acquirer.example/notify").is_err());
        let err = read(&[("NOTIFY_ALLOW_HOSTS", "acquirer.example")]).unwrap_err();
        assert!(err.to_string().starts_with("ALIPAY_NOTIFY_URL"), "{err}");
        let err = read(&[("NOTIFY_ALLOW_HOSTS", "bad/host")]).unwrap_err();
        assert!(err.to_string().starts_with("NOTIFY_ALLOW_HOSTS"), "{err}");
    }
}
