//! Account binding's settings from the environment (`AUTH_PAGE_BASE_URL`,
//! `BINDINGS_PER_ACCOUNT_MAX`; table in `config.rs`), read by every function's `Config` but set
//! in the template only for the functions that use them (prepare, apply-token, the page); the
//! others keep the defaults and never look.

use crate::config::ConfigError;

/// The binding settings from `get`; a malformed value names its variable.
pub(crate) fn binding_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<mpp_core::bindings::BindingSettings, ConfigError> {
    let defaults = mpp_core::bindings::BindingSettings::default();
    let page_base_url = match get("AUTH_PAGE_BASE_URL") {
        Some(u) if mpp_core::bindings::is_web_url(&u) => u,
        Some(_) => {
            return Err(crate::config::invalid(
                "AUTH_PAGE_BASE_URL",
                "not an http(s) URL",
            ))
        }
        None => defaults.page_base_url,
    };
    let bindings_per_account_max = match get("BINDINGS_PER_ACCOUNT_MAX") {
        Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
            crate::config::invalid("BINDINGS_PER_ACCOUNT_MAX", "not a positive number")
        })?,
        None => defaults.bindings_per_account_max,
    };
    let push_auth_code = match get("AUTH_NOTIFY_PUSH_CODE").as_deref() {
        None | Some("false") => defaults.push_auth_code,
        Some("true") => true,
        Some(_) => {
            return Err(crate::config::invalid(
                "AUTH_NOTIFY_PUSH_CODE",
                "not \"true\" or \"false\"",
            ))
        }
    };
    Ok(mpp_core::bindings::BindingSettings {
        page_base_url,
        bindings_per_account_max,
        push_auth_code,
    })
}
