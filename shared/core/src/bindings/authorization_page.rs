//! The authorization page (`authUrl`): the wallet's H5 page where the user sees who asks for
//! what, logs in with login id and PIN, and approves or declines (`account-binding.md` §1
//! steps 3–4). Server-rendered HTML that works on a phone; no script.
//!
//! - `GET ?authId=…` shows the page of a pending authorization, with an anti-forgery token in a
//!   hidden field (`af`) and the same value in a `SameSite=Strict`, `HttpOnly` cookie
//!   (double submit: a cross-site form post carries neither the cookie nor the value).
//! - `POST ?authId=…` with the form fields `loginId`, `pin`, `decision` (`approve` | `decline`)
//!   and `af`: approve checks the PIN (Argon2id; [`PIN_TRIES_MAX`] wrong ones in a row lock PIN
//!   entry for [`PIN_LOCK`]), issues an authCode and answers `303` to `authRedirectUrl` with
//!   `authCode` and `authState`; decline answers `303` to `authRedirectUrl` with
//!   `error=access_denied` and `authState`.
//! - An unknown, used, declined or expired authorization gets a page that says so (404 / 410).
//!
//! Only the opaque `authId` is ever in a URL of ours; the PIN only in the POST body; the code
//! only in the redirect to the merchant. Nothing of them is logged.

use super::auth_notify::auth_notification;
use super::{
    auth_id_of_page, new_auth_code, next, random_bytes, write, Authorization,
    AuthorizationNotifyType, AuthorizationState, BindingSettings, Decision, WalletLogin,
    CODE_VALIDITY, PAGE_VALIDITY, PIN_LOCK, PIN_TRIES_MAX,
};
use crate::clock::Clock;
use crate::ids::{CustomerId, Secret, SecretHash};
use crate::operations::AUTHORIZATION_PAGE;
use crate::pin::verify_pin;
use crate::store::memory::MemoryStore;
use crate::store::{StoreError, SCOPE_AGREEMENT_PAY};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::sync::Arc;

// ---- wire: the page's HTTP request and answer ---------------------------------------------------

/// The anti-forgery cookie's name.
pub const AF_COOKIE: &str = "mpp_af";
/// Largest form body read (the form has four short fields).
pub const FORM_BYTES_MAX: usize = 8 * 1024;

/// A request to the page, as the HTTP layer saw it.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The query string (without `?`).
    pub query: &'a str,
    /// The `Cookie` header, if any.
    pub cookie: Option<&'a str>,
    /// The form body (POST).
    pub body: &'a [u8],
}

/// The page's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageAnswer {
    /// HTTP status.
    pub status: u16,
    /// Headers (content type, security headers, `Location`, `Set-Cookie`).
    pub headers: Vec<(String, String)>,
    /// The HTML.
    pub body: String,
    /// What happened, for the log line (never a secret).
    pub outcome: &'static str,
}

// ---- port and decision --------------------------------------------------------------------------

/// The authorization page's store: read the authorization and the login, write the PIN counter
/// and the user's decision (each one conditional write).
#[async_trait]
pub trait AuthorizationPageStore: Send + Sync {
    /// The authorization with this id.
    async fn authorization(&self, auth_id: &str) -> Result<Option<Authorization>, StoreError>;
    /// The login with this id.
    async fn login(&self, login_id: &str) -> Result<Option<WalletLogin>, StoreError>;
    /// How many merchants the account is bound to now.
    async fn bound_count(&self, customer_id: &CustomerId) -> Result<u32, StoreError>;
    /// Writes the outcome of a PIN check ([`decide_pin`]'s record), conditioned on the version
    /// it was decided on; `false`: someone else wrote first (the caller reads again). The same
    /// write again (a retry after a lost answer) finds itself in place and answers `true`.
    async fn put_login(&self, login: &WalletLogin, expect_version: u64)
        -> Result<bool, StoreError>;
    /// Applies the user's choice as [`decide_page`] decides on the authorization as read.
    async fn decide(
        &self,
        auth_id: &str,
        choice: &PageChoice,
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError>;
}

/// The user's decision on the page (the PIN was checked before).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageChoice {
    /// Approve as this user, with this code (drawn by the caller).
    Approve {
        /// The wallet user who logged in.
        customer_id: CustomerId,
        /// The new authCode's hash.
        code_hash: SecretHash,
        /// The plain code, when the MPP is configured to push codes with authNotify
        /// (`AUTHCODE_CREATED`); `None`: the code travels only through the redirect.
        push_code: Option<Secret>,
    },
    /// Decline.
    Decline,
}

/// What became of the page's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageOutcome {
    /// Approved: the code is live.
    Approved(Authorization),
    /// Declined.
    Declined(Authorization),
    /// Not (any more) waiting for the user: used, declined, cancelled or past its page validity.
    Closed,
    /// No such authorization.
    NotFound,
}

/// Decides the user's choice on the authorization as read.
pub fn decide_page(
    current: Option<Authorization>,
    choice: &PageChoice,
    now: DateTime<Utc>,
) -> Decision<PageOutcome> {
    let Some(b) = current else {
        return Decision::Answer(PageOutcome::NotFound);
    };
    if b.state != AuthorizationState::Pending || now > b.page_expires_at {
        return Decision::Answer(PageOutcome::Closed);
    }
    let mut n = next(&b);
    n.decided_at = Some(now);
    match choice {
        PageChoice::Approve {
            customer_id,
            code_hash,
            push_code,
        } => {
            n.state = AuthorizationState::Approved;
            n.customer_id = Some(customer_id.clone());
            n.code_hash = Some(code_hash.clone());
            n.code_expires_at = Some(now + CODE_VALIDITY);
            let mut w = write(n.clone(), &b);
            w.notify = push_code.as_ref().and_then(|code| {
                auth_notification(&n, AuthorizationNotifyType::AuthcodeCreated, code, now)
            });
            Decision::Write(Box::new(w), PageOutcome::Approved(n))
        }
        PageChoice::Decline => {
            n.state = AuthorizationState::Declined;
            Decision::Write(Box::new(write(n.clone(), &b)), PageOutcome::Declined(n))
        }
    }
}

/// What a PIN check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinOutcome {
    /// The PIN was right.
    Accepted(CustomerId),
    /// Wrong; this many tries are left before the lock.
    Wrong(u32),
    /// Locked until then (no PIN was checked).
    Locked(DateTime<Utc>),
    /// No such login id.
    UnknownLogin,
}

/// Whether PIN entry is locked for `login` at `now`.
pub fn pin_locked(login: &WalletLogin, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    login.locked_until.filter(|t| now < *t)
}

/// Decides what a PIN check writes: a right PIN clears the counter (no write when it is clear),
/// a wrong one counts, and the [`PIN_TRIES_MAX`]th wrong one in a row locks PIN entry for
/// [`PIN_LOCK`] (the counter restarts after it).
pub fn decide_pin(
    login: &WalletLogin,
    right: bool,
    now: DateTime<Utc>,
) -> (Option<WalletLogin>, PinOutcome) {
    if let Some(until) = pin_locked(login, now) {
        return (None, PinOutcome::Locked(until));
    }
    let mut n = login.clone();
    n.version += 1;
    if right {
        if login.failures == 0 && login.locked_until.is_none() {
            return (None, PinOutcome::Accepted(login.customer_id.clone()));
        }
        n.failures = 0;
        n.locked_until = None;
        return (Some(n), PinOutcome::Accepted(login.customer_id.clone()));
    }
    n.failures = login.failures + 1;
    if n.failures >= PIN_TRIES_MAX {
        n.failures = 0;
        let until = now + PIN_LOCK;
        n.locked_until = Some(until);
        return (Some(n), PinOutcome::Locked(until));
    }
    n.locked_until = None;
    let left = PIN_TRIES_MAX - n.failures;
    (Some(n), PinOutcome::Wrong(left))
}

/// Whether a granted scope list lets the token pay (for the page's wording and tests).
pub fn scopes_allow_pay(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == SCOPE_AGREEMENT_PAY)
}

// ---- flow ---------------------------------------------------------------------------------------

/// Writes of the PIN counter when another check of the same login wins the race in between;
/// each attempt reads the login again.
pub const PIN_WRITE_ATTEMPTS_MAX: u32 = 3;

/// What the page needs.
#[derive(Clone)]
pub struct PageDeps {
    /// Authorizations and logins.
    pub store: Arc<dyn AuthorizationPageStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Where the page is, the cap of bindings per account.
    pub settings: BindingSettings,
}

/// Serves one request of the page. Never fails: a store failure is a "try again" page (503).
pub async fn serve_page(deps: &PageDeps, req: PageRequest<'_>) -> PageAnswer {
    let started = std::time::Instant::now();
    let answer = match handle(deps, req).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %crate::cause::chain(&e), "authorization page failed");
            unavailable()
        }
    };
    tracing::info!(
        http_status = answer.status,
        outcome = answer.outcome,
        latency_ms = started.elapsed().as_millis() as u64,
        "answered"
    );
    answer
}

/// The "try again" page (a store failure, or the deadline passed).
pub fn unavailable() -> PageAnswer {
    page(
        503,
        "unavailable",
        "Please try again",
        "<p>The wallet could not be reached. Please try again in a moment.</p>",
        None,
    )
}

async fn handle(deps: &PageDeps, req: PageRequest<'_>) -> Result<PageAnswer, StoreError> {
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query.as_bytes())
        .into_owned()
        .collect();
    let Some(auth_id) = field(&query, "authId").and_then(auth_id_of_page) else {
        return Ok(not_found());
    };
    let now = deps.clock.now();
    let Some(auth) = deps.store.authorization(&auth_id).await? else {
        return Ok(not_found());
    };
    if auth.state != AuthorizationState::Pending || now > auth.page_expires_at {
        return Ok(closed());
    }
    match req.method.to_ascii_uppercase().as_str() {
        "GET" | "HEAD" => show(deps, &auth, None),
        "POST" => post(deps, &auth, req, now).await,
        _ => Ok(page(
            405,
            "method",
            "Not allowed",
            "<p>This page is opened with GET and sent with POST.</p>",
            None,
        )),
    }
}

async fn post(
    deps: &PageDeps,
    auth: &Authorization,
    req: PageRequest<'_>,
    now: DateTime<Utc>,
) -> Result<PageAnswer, StoreError> {
    if req.body.len() > FORM_BYTES_MAX {
        return Ok(page(
            413,
            "too_large",
            "Form too large",
            "<p>The form was too large.</p>",
            None,
        ));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body).into_owned().collect();
    let cookie_af = req.cookie.and_then(|c| cookie(c, AF_COOKIE));
    let form_af = field(&form, "af");
    let af_ok = match (cookie_af, form_af) {
        (Some(c), Some(f)) => {
            c.len() == 32
                && aws_lc_rs::constant_time::verify_slices_are_equal(c.as_bytes(), f.as_bytes())
                    .is_ok()
        }
        _ => false,
    };
    if !af_ok {
        return Ok(page(403, "forgery", "Please start again", "<p>This form has expired or did not come from this page. Go back and open the link again.</p>", None));
    }
    match field(&form, "decision").as_deref() {
        Some("decline") => {
            let outcome = deps
                .store
                .decide(&auth.auth_id, &PageChoice::Decline, now)
                .await?;
            match outcome {
                PageOutcome::Declined(a) => {
                    Ok(redirect(&a, &[("error", "access_denied")], "declined"))
                }
                PageOutcome::Approved(_) | PageOutcome::Closed => Ok(closed()),
                PageOutcome::NotFound => Ok(not_found()),
            }
        }
        Some("approve") => approve(deps, auth, &form, now).await,
        _ => Ok(page(
            400,
            "bad_decision",
            "Please choose",
            "<p>Choose Agree or Decline.</p>",
            None,
        )),
    }
}

async fn approve(
    deps: &PageDeps,
    auth: &Authorization,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<PageAnswer, StoreError> {
    let login_id = field(form, "loginId").unwrap_or_default();
    let pin = field(form, "pin").unwrap_or_default();
    let customer = match check_pin(deps, login_id.trim(), &pin, now).await? {
        PinOutcome::Accepted(c) => c,
        PinOutcome::Wrong(left) => {
            return show(
                deps,
                auth,
                Some(format!(
                    "The login id or PIN is wrong. {left} tries left before PIN entry is locked."
                )),
            );
        }
        PinOutcome::UnknownLogin => {
            return show(
                deps,
                auth,
                Some("The login id or PIN is wrong.".to_string()),
            );
        }
        PinOutcome::Locked(until) => {
            let minutes = PIN_LOCK.num_minutes();
            let body = format!(
                "<p>After {PIN_TRIES_MAX} wrong PINs, PIN entry is locked for {minutes} minutes, until {} (UTC+8).</p>",
                esc(&until.with_timezone(&crate::clock::business_tz()).format("%H:%M").to_string())
            );
            return Ok(page(423, "pin_locked", "PIN entry locked", &body, None));
        }
    };
    let bound = deps.store.bound_count(&customer).await?;
    let max = deps.settings.bindings_per_account_max;
    if bound >= max {
        let body = format!("<p>Your wallet is already linked to {max} merchants, the most allowed. Unlink one in the wallet app first.</p>");
        return Ok(page(
            409,
            "too_many_bindings",
            "Too many linked merchants",
            &body,
            None,
        ));
    }
    let code = new_auth_code(&auth.auth_id)?;
    let choice = PageChoice::Approve {
        customer_id: customer,
        code_hash: code.hash(),
        push_code: deps.settings.push_auth_code.then(|| code.clone()),
    };
    match deps.store.decide(&auth.auth_id, &choice, now).await? {
        PageOutcome::Approved(a) => Ok(redirect(&a, &[("authCode", code.expose())], "approved")),
        PageOutcome::Declined(_) | PageOutcome::Closed => Ok(closed()),
        PageOutcome::NotFound => Ok(not_found()),
    }
}

/// Checks the PIN and records the outcome (one conditional write of the login's counter), read
/// again when another check of the same login wrote first.
async fn check_pin(
    deps: &PageDeps,
    login_id: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<PinOutcome, StoreError> {
    for _ in 0..PIN_WRITE_ATTEMPTS_MAX {
        let Some(login) = deps.store.login(login_id).await? else {
            // The same Argon2id work as for a real login, so the answer's timing does not tell
            // which login ids exist.
            let typed = pin.to_string();
            let _ = tokio::task::spawn_blocking(move || verify_pin(dummy_hash(), &typed)).await;
            return Ok(PinOutcome::UnknownLogin);
        };
        if let Some(until) = pin_locked(&login, now) {
            return Ok(PinOutcome::Locked(until));
        }
        let stored = login.pin_hash.clone();
        let typed = pin.to_string();
        // Argon2id takes tens of milliseconds of CPU: off the async workers.
        let right = tokio::task::spawn_blocking(move || verify_pin(&stored, &typed))
            .await
            .unwrap_or(false);
        let (write, outcome) = decide_pin(&login, right, now);
        match write {
            None => return Ok(outcome),
            Some(w) => {
                if deps.store.put_login(&w, login.version).await? {
                    return Ok(outcome);
                }
            }
        }
    }
    Err(StoreError::Contention(PIN_WRITE_ATTEMPTS_MAX))
}

/// An Argon2id hash of no one's PIN, made once per process, checked against for an unknown login.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| crate::pin::hash_pin("000000").unwrap_or_default())
}

/// The anti-forgery cookie's path: the page's folder under the base URL's own path (behind an
/// execute-api stage URL `/prod/wallet`, else `/wallet`), so the browser sends it back to the
/// page and nowhere else.
pub fn cookie_path(page_base_url: &str) -> String {
    let base = url::Url::parse(page_base_url)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    format!("{base}{}", AUTHORIZATION_PAGE.prefix)
}

fn field(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn cookie<'c>(header: &'c str, name: &str) -> Option<&'c str> {
    header
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A scope in words (unknown scopes are shown by name: the set is open).
pub fn scope_in_words(scope: &str) -> String {
    match scope {
        "AGREEMENT_PAY" => "Take payments from your wallet automatically, without asking you each time (auto debit)".into(),
        "BASE_USER_INFO" => "See your basic profile (nickname and avatar)".into(),
        "USER_INFO" => "See your profile information".into(),
        "USER_LOGIN_ID" => "See your wallet login id".into(),
        other => format!("Permission “{other}”"),
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,sans-serif;margin:0;background:#f4f5f7;color:#1d1d1f}\
main{max-width:28rem;margin:0 auto;padding:1.25rem}\
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}\
h1{font-size:1.35rem;margin:.25rem 0 1rem}img.logo{max-width:64px;max-height:64px}\
label{display:block;margin:.75rem 0 .25rem;font-weight:600}\
input{width:100%;box-sizing:border-box;font-size:1.1rem;padding:.7rem;border:1px solid #bbb;border-radius:8px}\
button{width:100%;font-size:1.1rem;padding:.8rem;margin-top:.75rem;border-radius:8px;border:0}\
.approve{background:#1677ff;color:#fff}.decline{background:#e8e8ed;color:#1d1d1f}\
.error{color:#b00020;font-weight:600}small{color:#666}";

fn headers(status_extra: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut h = vec![
        ("Content-Type".to_string(), "text/html; charset=utf-8".to_string()),
        ("Cache-Control".to_string(), "no-store".to_string()),
        // No script at all; images from the merchant's logo URL only; never framed.
        (
            "Content-Security-Policy".to_string(),
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; frame-ancestors 'none'; base-uri 'none'".to_string(),
        ),
        ("X-Frame-Options".to_string(), "DENY".to_string()),
        // The page URL carries the authId: no Referer to the logo's host.
        ("Referrer-Policy".to_string(), "no-referrer".to_string()),
        ("X-Content-Type-Options".to_string(), "nosniff".to_string()),
    ];
    h.extend(status_extra);
    h
}

fn document(title: &str, inner: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><main><div class=\"card\">{inner}</div></main></body></html>",
        esc(title)
    )
}

fn page(
    status: u16,
    outcome: &'static str,
    title: &str,
    inner_html: &str,
    extra: Option<(String, String)>,
) -> PageAnswer {
    let inner = format!("<h1>{}</h1>{inner_html}", esc(title));
    PageAnswer {
        status,
        headers: headers(extra.into_iter().collect()),
        body: document(title, &inner),
        outcome,
    }
}

fn not_found() -> PageAnswer {
    page(404, "not_found", "Authorization not found", "<p>This link does not lead to an authorization request. Go back to the merchant and start again.</p>", None)
}

fn closed() -> PageAnswer {
    page(410, "closed", "This request has expired or was already used", "<p>This authorization request has expired, or was already answered. Go back to the merchant and start again.</p>", None)
}

/// The page of a pending authorization: who asks, for what, and the form.
fn show(
    deps: &PageDeps,
    auth: &Authorization,
    error: Option<String>,
) -> Result<PageAnswer, StoreError> {
    let c = &auth.client;
    let title = c
        .auth_client_display_name
        .clone()
        .unwrap_or_else(|| c.auth_client_name.clone());
    let af = hex::encode(random_bytes::<16>()?);
    let mut inner = String::new();
    if let Some(logo) = c
        .auth_client_logo
        .as_deref()
        .filter(|l| super::is_web_url(l))
    {
        let _ = write!(inner, "<img class=\"logo\" src=\"{}\" alt=\"\">", esc(logo));
    }
    let _ = write!(
        inner,
        "<h1 id=\"client\">{} wants to link your wallet</h1>",
        esc(&title)
    );
    if c.auth_client_display_name.is_some() {
        let _ = write!(
            inner,
            "<p><small>Registered name: {}</small></p>",
            esc(&c.auth_client_name)
        );
    }
    inner.push_str("<p>It asks to:</p><ul id=\"scopes\">");
    for s in &c.scopes {
        let _ = write!(inner, "<li>{}</li>", esc(&scope_in_words(s)));
    }
    inner.push_str("</ul>");
    if let Some(e) = error {
        let _ = write!(inner, "<p class=\"error\" id=\"error\">{}</p>", esc(&e));
    }
    let action = format!(
        "{}?authId={}",
        AUTHORIZATION_PAGE.route.trim_start_matches('/'),
        auth.auth_id
    );
    let _ = write!(
        inner,
        "<form method=\"post\" action=\"{}\" autocomplete=\"off\">\
<input type=\"hidden\" name=\"af\" value=\"{af}\">\
<label for=\"loginId\">Wallet login id</label><input id=\"loginId\" name=\"loginId\" autocomplete=\"username\" autocapitalize=\"none\">\
<label for=\"pin\">Wallet PIN</label><input id=\"pin\" name=\"pin\" type=\"password\" inputmode=\"numeric\" autocomplete=\"current-password\">\
<button class=\"approve\" id=\"approve\" name=\"decision\" value=\"approve\" type=\"submit\">Agree and link</button>\
<button class=\"decline\" id=\"decline\" name=\"decision\" value=\"decline\" type=\"submit\" formnovalidate>Decline</button></form>",
        esc(&action)
    );
    let secure = if deps.settings.page_base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{AF_COOKIE}={af}; Path={}; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        cookie_path(&deps.settings.page_base_url),
        PAGE_VALIDITY.num_seconds()
    );
    let title_text = format!("Link {title}");
    Ok(PageAnswer {
        status: 200,
        headers: headers(vec![("Set-Cookie".to_string(), cookie)]),
        body: document(&title_text, &inner),
        outcome: "shown",
    })
}

/// `303` to the merchant's `authRedirectUrl` with `params` and `authState` appended.
fn redirect(auth: &Authorization, params: &[(&str, &str)], outcome: &'static str) -> PageAnswer {
    let location = match url::Url::parse(&auth.client.auth_redirect_url) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
                if let Some(s) = &auth.client.auth_state {
                    q.append_pair("authState", s);
                }
            }
            u.to_string()
        }
        // prepare accepted only http(s) URLs; a stored one that does not parse is corrupt.
        Err(_) => {
            return page(
                500,
                "bad_redirect",
                "Cannot return to the merchant",
                "<p>The merchant's return address is invalid.</p>",
                None,
            )
        }
    };
    PageAnswer {
        status: 303,
        headers: headers(vec![("Location".to_string(), location)]),
        body: document(
            "Returning to the merchant",
            "<p>Returning to the merchant…</p>",
        ),
        outcome,
    }
}

// ---- memory store -------------------------------------------------------------------------------

#[async_trait]
impl AuthorizationPageStore for MemoryStore {
    async fn authorization(&self, auth_id: &str) -> Result<Option<Authorization>, StoreError> {
        Ok(self.lock().bindings.authorizations.get(auth_id).cloned())
    }

    async fn login(&self, login_id: &str) -> Result<Option<WalletLogin>, StoreError> {
        Ok(self.lock().bindings.logins.get(login_id).cloned())
    }

    async fn bound_count(&self, customer_id: &CustomerId) -> Result<u32, StoreError> {
        Ok(self.lock().bound_count(customer_id))
    }

    async fn put_login(
        &self,
        login: &WalletLogin,
        expect_version: u64,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        match s.bindings.logins.get(&login.login_id) {
            // This very write again (a retry after a lost answer): it is in place.
            Some(l) if l == login => Ok(true),
            Some(l) if l.version == expect_version => {
                s.bindings
                    .logins
                    .insert(login.login_id.clone(), login.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn decide(
        &self,
        auth_id: &str,
        choice: &PageChoice,
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError> {
        let mut s = self.lock();
        let current = s.bindings.authorizations.get(auth_id).cloned();
        s.settle(decide_page(current, choice, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_goes_back_to_the_page_behind_a_stage_too() {
        assert_eq!(cookie_path("https://wallet.example"), "/wallet");
        assert_eq!(cookie_path("https://wallet.example/"), "/wallet");
        assert_eq!(
            cookie_path("https://abc.execute-api.eu-west-1.amazonaws.com/prod"),
            "/prod/wallet"
        );
    }

    #[test]
    fn html_is_escaped_and_scopes_are_words() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert!(scope_in_words("AGREEMENT_PAY").contains("automatically"));
        assert_eq!(scope_in_words("NEW_SCOPE"), "Permission “NEW_SCOPE”");
    }
}
