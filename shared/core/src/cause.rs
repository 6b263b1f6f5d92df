//! The cause of a failure in an adapter: what was being done, and the underlying error kept as
//! the `source`, so a log line keeps the whole chain and code can ask what happened
//! ([`Cause::find`]) instead of parsing a string. Domain errors (`StoreError`, `QueueError`,
//! `DeliveryError`) carry one where an external system failed; the adapter's own error types
//! (the AWS SDK's, reqwest's) never cross a port as types, only as sources.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A description of what failed and, when there is one, the error it came from.
#[derive(Clone)]
pub struct Cause {
    context: String,
    source: Option<Arc<dyn Error + Send + Sync + 'static>>,
}

impl Cause {
    /// A cause with no underlying error (a rule the adapter itself found broken).
    pub fn new(context: impl Into<String>) -> Cause {
        Cause {
            context: context.into(),
            source: None,
        }
    }

    /// `context`, caused by `source`.
    pub fn with_source(
        context: impl Into<String>,
        source: impl Error + Send + Sync + 'static,
    ) -> Cause {
        Cause {
            context: context.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// What was being done.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The first error of type `E` in the chain below this cause, if any: "was it a timeout?"
    pub fn find<E: Error + 'static>(&self) -> Option<&E> {
        let mut next: Option<&(dyn Error + 'static)> = self.source.as_deref().map(|e| e as _);
        // Chains are a handful of links deep; the bound only guards against a cycle.
        for _ in 0..CHAIN_LINKS_MAX {
            let e = next?;
            if let Some(found) = e.downcast_ref::<E>() {
                return Some(found);
            }
            next = e.source();
        }
        None
    }

    /// The context and every source below it, joined with `: ` (for a log line or a stored
    /// error text).
    pub fn chain(&self) -> String {
        let mut out = self.context.clone();
        let mut next: Option<&(dyn Error + 'static)> = self.source.as_deref().map(|e| e as _);
        for _ in 0..CHAIN_LINKS_MAX {
            let Some(e) = next else { break };
            out.push_str(": ");
            out.push_str(&e.to_string());
            next = e.source();
        }
        out
    }
}

/// `error` and every source below it, joined with `: `: what a log line or a stored error text
/// says, so no cause is lost when an error is written down.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    for _ in 0..CHAIN_LINKS_MAX {
        let Some(e) = next else { break };
        let text = e.to_string();
        // A wrapper that displays its source (`#[error(transparent)]`, `{0}`) adds nothing new.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

/// Links followed down a source chain.
const CHAIN_LINKS_MAX: usize = 16;

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cause")
            .field("context", &self.context)
            .field("source", &self.source)
            .finish()
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// Two causes are the same failure when they say the same thing (sources are not comparable).
impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.chain() == other.chain()
    }
}

impl Eq for Cause {}

impl From<String> for Cause {
    fn from(context: String) -> Cause {
        Cause::new(context)
    }
}

impl From<&str> for Cause {
    fn from(context: &str) -> Cause {
        Cause::new(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection reset")]
    struct Reset;

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Dispatch(#[source] Reset);

    #[test]
    fn the_chain_is_kept_and_can_be_asked() {
        let c = Cause::with_source("GetItem", Dispatch(Reset));
        assert_eq!(c.to_string(), "GetItem");
        assert_eq!(c.chain(), "GetItem: dispatch failure: connection reset");
        assert!(c.find::<Reset>().is_some());
        assert!(c.find::<std::io::Error>().is_none());
        assert_eq!(
            c.source().map(ToString::to_string).as_deref(),
            Some("dispatch failure")
        );
        assert_eq!(Cause::from("plain").chain(), "plain");
        assert!(Cause::from("plain").source().is_none());
    }
}
