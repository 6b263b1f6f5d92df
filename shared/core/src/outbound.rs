//! Where outbound calls may go: the one check every call the MPP makes to someone else passes
//! before anything is sent (notifyPayment today; any later outbound call through `mpp-client`
//! inherits it).
//!
//! A pay request names its own `paymentNotifyUrl`, and the notify function is the one with a
//! route to the internet: without a check, whoever can get a request signed by Alipay+'s key
//! chooses where our signed notifications go. So in AWS only `https` to configured hosts
//! (Alipay+'s domains by default) is allowed, in `mpp serve` loopback; a refused destination is
//! never contacted, and the notify flow records, counts and dead-letters it (`flows::notify`).
//! The URL is parsed with the same parser the HTTP client uses (`url`), so what is checked is
//! what would be called.

use std::net::IpAddr;

/// Alipay+'s own domain: the default allow-list in AWS is this domain and its subdomains (its
/// regional gateways are `open-*.alipayplus.com`), plus the host of the configured
/// `ALIPAY_NOTIFY_URL`.
pub const ALIPAY_DOMAIN: &str = "alipayplus.com";

/// Most hosts an allow-list holds: a list is configuration an operator reads.
pub const HOSTS_MAX: usize = 64;

/// Why a destination was refused. Never carries the URL's path or query (they may carry ids).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not an absolute URL.
    #[error("not an absolute URL")]
    NotAUrl,
    /// A scheme other than those allowed (`https`; `http` only to allowed loopback hosts).
    #[error("scheme {0} is not allowed")]
    Scheme(String),
    /// The URL carries a user name or password (`https://alipayplus.com@elsewhere`).
    #[error("URLs with credentials are not allowed")]
    Credentials,
    /// The host is not on the allow-list.
    #[error("host {0} is not on the allow-list")]
    Host(String),
}

/// One allowed host: exactly this name, or (written `*.example.com` or `.example.com`) this
/// domain and every subdomain of it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum HostRule {
    Exact(String),
    Domain(String),
}

impl HostRule {
    fn parse(entry: &str) -> Option<HostRule> {
        let entry = entry
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if let Some(domain) = entry.strip_prefix("*.").or_else(|| entry.strip_prefix('.')) {
            return (!domain.is_empty()).then(|| HostRule::Domain(domain.to_string()));
        }
        (!entry.is_empty()).then_some(HostRule::Exact(entry))
    }

    fn allows(&self, host: &str) -> bool {
        match self {
            HostRule::Exact(h) => host == h,
            HostRule::Domain(d) => {
                host == d
                    || host
                        .strip_suffix(d.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            }
        }
    }
}

/// An allow-list of destinations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destinations {
    /// `None`: any destination (the `mpp call` command, which calls what its user names).
    hosts: Option<Vec<HostRule>>,
    /// Any loopback host (`mpp serve`'s default).
    loopback: bool,
    /// `http` allowed (to loopback hosts only); otherwise `https` only.
    http_to_loopback: bool,
}

/// An allow-list entry that is not a host name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// An empty or malformed entry.
    #[error("{0:?} is not a host name (write `host`, `*.domain` or `.domain`)")]
    Entry(String),
    /// More than [`HOSTS_MAX`] entries.
    #[error("more than {HOSTS_MAX} hosts")]
    TooMany,
}

impl Destinations {
    /// Any `http` or `https` URL: for a command whose user names the URL (`mpp call`) and the
    /// local hub.
    pub fn any() -> Destinations {
        Destinations {
            hosts: None,
            loopback: true,
            http_to_loopback: true,
        }
    }

    /// `https` only, to exactly these hosts (see `HostRule` for `*.domain`).
    pub fn https_to<'a>(
        hosts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Destinations, ListError> {
        let rules = parse_hosts(hosts)?;
        Ok(Destinations {
            hosts: Some(rules),
            loopback: false,
            http_to_loopback: false,
        })
    }

    /// `mpp serve`: loopback hosts only when no host is listed; once any is, only the listed
    /// ones (loopback included only when listed). `http` is allowed to loopback hosts.
    pub fn local<'a>(hosts: impl IntoIterator<Item = &'a str>) -> Result<Destinations, ListError> {
        let rules = parse_hosts(hosts)?;
        Ok(Destinations {
            loopback: rules.is_empty(),
            hosts: Some(rules),
            http_to_loopback: true,
        })
    }

    /// The AWS default: `https` to [`ALIPAY_DOMAIN`] and its subdomains, and to the host of
    /// `notify_url` (the configured Alipay+ endpoint), when it has one.
    pub fn alipay_default(notify_url: Option<&str>) -> Destinations {
        let mut rules = vec![HostRule::Domain(ALIPAY_DOMAIN.to_string())];
        if let Some(host) = notify_url
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().and_then(HostRule::parse))
        {
            rules.push(host);
        }
        Destinations {
            hosts: Some(rules),
            loopback: false,
            http_to_loopback: false,
        }
    }

    /// Whether `url` may be called: the one check every outbound call makes first.
    pub fn check(&self, url: &str) -> Result<(), Refused> {
        let parsed = url::Url::parse(url).map_err(|_| Refused::NotAUrl)?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(Refused::Scheme(parsed.scheme().chars().take(16).collect()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Refused::Credentials);
        }
        let host = parsed
            .host_str()
            .ok_or(Refused::NotAUrl)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let listed = match &self.hosts {
            None => true,
            Some(rules) => rules.iter().any(|r| r.allows(&host)),
        };
        let loopback = is_loopback(&host);
        match parsed.scheme() {
            "https" => {}
            "http" if self.hosts.is_none() || (self.http_to_loopback && loopback) => {}
            other => return Err(Refused::Scheme(other.chars().take(16).collect())),
        }
        if listed || (self.loopback && loopback) {
            Ok(())
        } else {
            Err(Refused::Host(host.chars().take(253).collect()))
        }
    }
}

fn parse_hosts<'a>(hosts: impl IntoIterator<Item = &'a str>) -> Result<Vec<HostRule>, ListError> {
    let mut rules = Vec::new();
    for entry in hosts {
        if rules.len() == HOSTS_MAX {
            return Err(ListError::TooMany);
        }
        let ok = !entry.trim().is_empty()
            && entry.trim().chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | ':' | '[' | ']')
            });
        match HostRule::parse(entry).filter(|_| ok) {
            Some(rule) => rules.push(rule),
            None => return Err(ListError::Entry(entry.chars().take(64).collect())),
        }
    }
    Ok(rules)
}

/// `localhost`, 127.0.0.0/8, `::1`.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_default_allows_alipay_https_only() {
        let d = Destinations::alipay_default(Some("https://notify.example-acquirer.com/aps/n"));
        assert_eq!(
            d.check("https://open-sea-global.alipayplus.com/aps/api/v1/payments/notifyPayment"),
            Ok(())
        );
        assert_eq!(d.check("https://alipayplus.com/x"), Ok(()));
        assert_eq!(d.check("https://notify.example-acquirer.com/other"), Ok(()));
        assert_eq!(
            d.check("http://open-sea-global.alipayplus.com/x"),
            Err(Refused::Scheme("http".into()))
        );
        assert_eq!(
            d.check("https://evilalipayplus.com/x"),
            Err(Refused::Host("evilalipayplus.com".into()))
        );
        assert_eq!(
            d.check("https://alipayplus.com.evil.net/x"),
            Err(Refused::Host("alipayplus.com.evil.net".into()))
        );
        assert_eq!(
            d.check("https://alipayplus.com@169.254.169.254/latest"),
            Err(Refused::Credentials)
        );
        assert_eq!(
            d.check("https://127.0.0.1/x"),
            Err(Refused::Host("127.0.0.1".into()))
        );
        assert_eq!(
            d.check("http://169.254.169.254/latest"),
            Err(Refused::Scheme("http".into()))
        );
        assert_eq!(
            d.check("file:///etc/passwd"),
            Err(Refused::Scheme("file".into()))
        );
        assert_eq!(d.check("not a url"), Err(Refused::NotAUrl));
        assert_eq!(d.check("https://OPEN-NA-GLOBAL.AlipayPlus.com./x"), Ok(()));
    }

    #[test]
    fn serve_allows_loopback_until_hosts_are_listed() {
        let d = Destinations::local([]).unwrap();
        assert_eq!(d.check("http://127.0.0.1:9000/notify"), Ok(()));
        assert_eq!(d.check("http://localhost:9000/notify"), Ok(()));
        assert_eq!(d.check("http://[::1]:9000/notify"), Ok(()));
        assert_eq!(
            d.check("https://open-sea-global.alipayplus.com/x"),
            Err(Refused::Host("open-sea-global.alipayplus.com".into()))
        );
        let listed = Destinations::local(["hub.test", "*.alipayplus.com"]).unwrap();
        assert_eq!(
            listed.check("http://127.0.0.1:9000/notify"),
            Err(Refused::Host("127.0.0.1".into()))
        );
        assert_eq!(listed.check("https://hub.test/notify"), Ok(()));
        assert_eq!(
            listed.check("http://hub.test/notify"),
            Err(Refused::Scheme("http".into()))
        );
        assert_eq!(listed.check("https://a.b.alipayplus.com/x"), Ok(()));
        let with_loopback = Destinations::local(["127.0.0.1"]).unwrap();
        assert_eq!(with_loopback.check("http://127.0.0.1:9000/notify"), Ok(()));
        assert_eq!(
            with_loopback.check("http://127.0.0.2:9000/notify"),
            Err(Refused::Host("127.0.0.2".into()))
        );
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        assert!(matches!(
            Destinations::https_to(["ok.example", "bad/host"]),
            Err(ListError::Entry(e)) if e == "bad/host"
        ));
        assert!(matches!(
            Destinations::https_to([""]),
            Err(ListError::Entry(_))
        ));
        let many: Vec<String> = (0..=HOSTS_MAX).map(|i| format!("h{i}.example")).collect();
        assert_eq!(
            Destinations::https_to(many.iter().map(String::as_str)),
            Err(ListError::TooMany)
        );
        assert_eq!(
            Destinations::any().check("http://anything.example/x"),
            Ok(())
        );
        assert_eq!(
            Destinations::any().check("ftp://anything.example/x"),
            Err(Refused::Scheme("ftp".into()))
        );
        assert_eq!(
            Destinations::any().check("https://anything.example/x"),
            Ok(())
        );
    }
}

/// A question the MPP asked Alipay+ and waited for (getPaymentCode, consultUnbinding) that did
/// not end in a usable S: the flows' view of the signed client's outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unanswered {
    /// Alipay+ answered F with this code and message.
    #[error("refused: {code}")]
    Refused {
        /// `resultCode`.
        code: String,
        /// `resultMessage`.
        message: String,
    },
    /// No trustworthy answer (timeouts, U, a bad signature or body, an S the caller cannot use)
    /// within the retry budget.
    #[error("no result: {0}")]
    Unknown(String),
}
