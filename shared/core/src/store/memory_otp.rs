//! sendOTP's and verifyOTP's ports on the memory store: each call one lock, so each is atomic as
//! the DynamoDB write is; the decisions are `store::otp`'s, shared with DynamoDB.

use super::super::otp::{
    decide_issue, decide_verify, IssueOutcome, OtpAttempt, OtpRecord, Recipient, SendOtpStore,
    VerifyDecision, VerifyOtpStore, VerifyOutcome,
};
use super::MemoryStore;
use crate::ids::{CustomerId, SecretHash};
use crate::store::{AccessToken, StoreError};
use async_trait::async_trait;

#[async_trait]
impl SendOtpStore for MemoryStore {
    async fn otp_token(&self, token_hash: &SecretHash) -> Result<Option<AccessToken>, StoreError> {
        Ok(self.lock().tokens.get(token_hash).cloned())
    }

    async fn recipient(&self, customer_id: &CustomerId) -> Result<Option<Recipient>, StoreError> {
        let s = self.lock();
        Ok(s.accounts.get(customer_id).map(|a| Recipient {
            status: a.status,
            contacts: s.contacts.get(customer_id).cloned().unwrap_or_default(),
        }))
    }

    async fn issue_otp(&self, otp: &OtpRecord) -> Result<IssueOutcome, StoreError> {
        let mut s = self.lock();
        if s.otps.contains_key(&otp.verify_request_id) {
            return Err(StoreError::AlreadyExists(format!(
                "otp {}",
                otp.verify_request_id
            )));
        }
        let day = (otp.token_hash.clone(), otp.day());
        let sent = s.otp_days.get(&day).copied().unwrap_or(0);
        match decide_issue(sent) {
            IssueOutcome::DailyCapReached => Ok(IssueOutcome::DailyCapReached),
            IssueOutcome::Issued => {
                s.otp_days.insert(day, sent.saturating_add(1));
                s.otps.insert(otp.verify_request_id.clone(), otp.clone());
                Ok(IssueOutcome::Issued)
            }
        }
    }
}

#[async_trait]
impl VerifyOtpStore for MemoryStore {
    async fn load_for_verify(
        &self,
        token_hash: &SecretHash,
        verify_request_id: &str,
    ) -> Result<(Option<AccessToken>, Option<OtpRecord>), StoreError> {
        let s = self.lock();
        Ok((
            s.tokens.get(token_hash).cloned(),
            s.otps.get(verify_request_id).cloned(),
        ))
    }

    async fn verify_otp(
        &self,
        attempt: &OtpAttempt,
        _current: Option<OtpRecord>,
    ) -> Result<VerifyOutcome, StoreError> {
        // Decided on the OTP as it is under the lock (what the caller read may be stale).
        let mut s = self.lock();
        let decision = decide_verify(attempt, s.otps.get(&attempt.verify_request_id));
        let outcome = super::super::otp::written_outcome(&decision);
        match decision {
            VerifyDecision::Answer(_) => {}
            VerifyDecision::MarkVerified(after) | VerifyDecision::CountWrong(after, _) => {
                s.otps.insert(after.verify_request_id.clone(), after);
            }
        }
        Ok(outcome)
    }
}
