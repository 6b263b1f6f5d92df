//! The delivery port of sendOTP: hand one message (an SMS or an e-mail holding a one-time
//! password) to whoever delivers it. In AWS: SNS `Publish` and SES `SendEmail`
//! (`mpp_aws::messaging`); locally: the [`Outbox`], which `mpp serve` prints and serves at
//! `GET /dev/outbox`.

use crate::cause::Cause;
use crate::otp::mask_address;
use crate::otp::VerifyType;
use async_trait::async_trait;
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;

/// One message to a user.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `MOBILE` (SMS) or `EMAIL`.
    pub channel: VerifyType,
    /// The phone number (E.164) or e-mail address.
    pub to: String,
    /// The e-mail subject (an SMS has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The text: it holds the one-time password, so it is never logged.
    pub text: String,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("channel", &self.channel)
            .field("to", &mask_address(&self.to))
            .finish_non_exhaustive()
    }
}

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The provider refused it for good (a bad address, an unverified sender, an opted-out
    /// number): sending again will not help.
    #[error("message refused: {0}")]
    Rejected(#[source] Cause),
    /// No answer, throttled or a server error: the message may or may not have gone out.
    #[error("message outcome unknown: {0}")]
    Unknown(#[source] Cause),
}

/// Hands messages to a delivery service. One call, bounded by the caller's deadline.
#[async_trait]
pub trait MessageSender: Send + Sync {
    /// Sends one message.
    async fn send(&self, message: &Message) -> Result<(), SendError>;
}

/// Most messages the outbox keeps; past it the oldest are dropped (a development tool, bounded
/// like everything else).
pub const OUTBOX_MESSAGES_MAX: usize = 1_000;

/// The local delivery: keeps every message in memory, oldest first, and optionally prints it
/// (`mpp serve`). Development only: the messages hold live codes.
#[derive(Default)]
pub struct Outbox {
    messages: Mutex<VecDeque<Message>>,
    print: bool,
}

impl Outbox {
    /// An outbox that only keeps messages (tests).
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// An outbox that also prints each message to stdout (`mpp serve`).
    pub fn printing() -> Outbox {
        Outbox {
            messages: Mutex::new(VecDeque::new()),
            print: true,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Message>> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The messages so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().iter().cloned().collect()
    }

    /// The messages as JSON lines (`{"channel":…,"to":…,"text":…}`), oldest first.
    pub fn json_lines(&self) -> String {
        self.lock()
            .iter()
            .map(|m| {
                let mut line = String::from_utf8(crate::wire::to_body(m)).unwrap_or_default();
                line.push('\n');
                line
            })
            .collect()
    }
}

#[async_trait]
impl MessageSender for Outbox {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        if self.print {
            println!(
                "outbox: {} to {}: {}",
                message.channel.as_str(),
                message.to,
                message.text
            );
        }
        let mut q = self.lock();
        if q.len() >= OUTBOX_MESSAGES_MAX {
            q.pop_front();
        }
        q.push_back(message.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_outbox_answers_json_lines_oldest_first_and_stays_bounded() {
        let o = Outbox::new();
        for i in 0..OUTBOX_MESSAGES_MAX + 2 {
            let m = Message {
                channel: VerifyType::Mobile,
                to: "+821012345678".into(),
                subject: None,
                text: format!("code {i}"),
            };
            o.send(&m).await.unwrap();
        }
        let lines = o.json_lines();
        let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(first["channel"], "MOBILE");
        assert_eq!(first["to"], "+821012345678");
        assert_eq!(first["text"], "code 2");
        assert_eq!(lines.lines().count(), OUTBOX_MESSAGES_MAX);
        let m = &o.messages()[0];
        assert!(!format!("{m:?}").contains("code"));
    }
}
