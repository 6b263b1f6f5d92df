//! Account binding (Alipay+ → MPP): prepare, applyToken, cancelToken (`account-binding.md`
//! §2–4). Lengths the page does not publish are the file's "take" values.

use super::result::ResultObject;
use super::scalar::{Text, Timestamp};
use super::{ParamIllegal, Validate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Most entries of `scopes` (not published; take 10).
pub const SCOPES_MAX: usize = 10;

/// Whether `s` is an absolute `http`/`https` URL without credentials (the user is sent there).
pub fn is_web_url(s: &str) -> bool {
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "https" | "http")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        }
        Err(_) => false,
    }
}

/// prepare: Alipay+ asks for our authorization page for a merchant's binding request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepareRequest {
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The ACQP (required by the page; accepted when absent, as for cancelPayment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// The client asking (normally the merchant).
    pub auth_client_id: Text<64>,
    /// Its registered legal name.
    pub auth_client_name: Text<256>,
    /// Its trade name (the page title) when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_client_display_name: Option<Text<64>>,
    /// Its logo (shown only when it is an http(s) URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_client_logo: Option<Text<2048>>,
    /// Merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_merchant_id: Option<Text<32>>,
    /// The merchant's agreement id: with `authClientId`, the idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_agreement_id: Option<Text<64>>,
    /// Where the user goes back (an http(s) URL).
    pub auth_redirect_url: Text<2048>,
    /// What the client asks for, e.g. `AGREEMENT_PAY` (an open set).
    pub scopes: Vec<Text<64>>,
    /// Echoed back with the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_state: Option<Text<256>>,
}

impl Validate for PrepareRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        if !is_web_url(self.auth_redirect_url.as_str()) {
            return Err(ParamIllegal::new(
                "authRedirectUrl",
                "must be an absolute http or https URL without credentials",
            ));
        }
        if self.scopes.is_empty() || self.scopes.len() > SCOPES_MAX {
            return Err(ParamIllegal::new(
                "scopes",
                format!("must hold 1 to {SCOPES_MAX} scopes"),
            ));
        }
        Ok(())
    }
}

/// prepare's answer: our authorization page for the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepareResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The authorization page (S only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<Text<2048>>,
}

impl Validate for PrepareResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// `grantType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GrantType {
    /// Exchange an authCode.
    AuthorizationCode,
    /// Rotate a token pair.
    RefreshToken,
}

/// applyToken: a code exchanged for tokens, or a refresh.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyTokenRequest {
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The ACQP (accepted when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// Which grant.
    pub grant_type: GrantType,
    /// The code (`AUTHORIZATION_CODE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<Text<128>>,
    /// The refresh token (`REFRESH_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Text<128>>,
    /// Some editions send it: it must then be the binding's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_client_id: Option<Text<64>>,
}

impl fmt::Debug for ApplyTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyTokenRequest")
            .field("grant_type", &self.grant_type)
            .finish_non_exhaustive()
    }
}

impl Validate for ApplyTokenRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        match self.grant_type {
            GrantType::AuthorizationCode if self.auth_code.is_none() => Err(ParamIllegal::new(
                "authCode",
                "is required when grantType is AUTHORIZATION_CODE",
            )),
            GrantType::RefreshToken if self.refresh_token.is_none() => Err(ParamIllegal::new(
                "refreshToken",
                "is required when grantType is REFRESH_TOKEN",
            )),
            GrantType::AuthorizationCode | GrantType::RefreshToken => Ok(()),
        }
    }
}

/// applyToken's answer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyTokenResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The access token (S only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Text<128>>,
    /// Its expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_expiry_time: Option<Timestamp>,
    /// The refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Text<128>>,
    /// Its expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expiry_time: Option<Timestamp>,
    /// The wallet user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
    /// The user's login id, masked (optional; we do not send it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_login_id: Option<Text<64>>,
}

impl fmt::Debug for ApplyTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyTokenResponse")
            .field("result", &self.result)
            .finish_non_exhaustive()
    }
}

impl Validate for ApplyTokenResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// cancelToken: the merchant unbinds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTokenRequest {
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The ACQP (accepted when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// The token to revoke: the idempotency key.
    pub access_token: Text<128>,
    /// Passed through (not interpreted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_through_info: Option<Text<20000>>,
}

impl fmt::Debug for CancelTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelTokenRequest").finish_non_exhaustive()
    }
}

impl Validate for CancelTokenRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// cancelToken's answer: `result` only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTokenResponse {
    /// The outcome.
    pub result: ResultObject,
}

impl Validate for CancelTokenResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_request;

    fn round_trip<T: serde::de::DeserializeOwned + Serialize + Validate>(json: &str) {
        let parsed: T = parse_request(json.as_bytes()).unwrap();
        let back = serde_json::to_value(&parsed).unwrap();
        let want: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, want);
    }

    #[test]
    fn the_example_and_answers_round_trip() {
        round_trip::<PrepareRequest>(include_str!("../../../../examples/prepare.json"));
        round_trip::<PrepareResponse>(
            r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"authUrl":"https://wallet.example/wallet/authorizationPage?authId=0123456789abcdef0123456789abcdef"}"#,
        );
        round_trip::<ApplyTokenRequest>(
            r#"{"pspId":"1","acquirerId":"2","grantType":"REFRESH_TOKEN","refreshToken":"r","authClientId":"c"}"#,
        );
        round_trip::<ApplyTokenResponse>(
            r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"accessToken":"a","accessTokenExpiryTime":"2026-12-30T10:00:00+08:00","refreshToken":"r","refreshTokenExpiryTime":"2027-11-30T10:00:00+08:00","customerId":"2160000000000001"}"#,
        );
        round_trip::<CancelTokenRequest>(
            r#"{"pspId":"1","accessToken":"a","passThroughInfo":"x"}"#,
        );
    }

    #[test]
    fn redirect_urls_must_be_web_urls_and_secrets_do_not_print() {
        assert!(is_web_url("https://m.example/back?x=1"));
        assert!(is_web_url("http://127.0.0.1:9/b"));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://u:p@m.example/",
            "/relative",
            "ftp://m.example/",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
        let req: ApplyTokenRequest = parse_request(
            br#"{"pspId":"1","grantType":"AUTHORIZATION_CODE","authCode":"SECRET-CODE"}"#,
        )
        .unwrap();
        assert!(!format!("{req:?}").contains("SECRET-CODE"));
        let c: CancelTokenRequest =
            parse_request(br#"{"pspId":"1","accessToken":"SECRET-TOKEN"}"#).unwrap();
        assert!(!format!("{c:?}").contains("SECRET-TOKEN"));
    }
}
