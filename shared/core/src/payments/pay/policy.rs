//! Merchant and risk rules: real, configurable rules, evaluated before any money moves.

use super::PayRequest;
use crate::money::{Currency, MinorUnit};
use crate::result_code::ResultCode;
use std::collections::{BTreeMap, BTreeSet};

/// What the MPP accepts, set by configuration (environment for the Lambdas, flags/seed for
/// `mpp serve`). Every field defaults to "allow".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Our own `pspId`; when set, a request for another PSP is `ACCESS_DENIED`.
    pub psp_id: Option<String>,
    /// Merchants (`referenceMerchantId`) we refuse: `MERCHANT_NOT_REGISTERED`.
    pub blocked_merchants: BTreeSet<String>,
    /// When set, only these merchants may charge our users: others get `MERCHANT_NOT_REGISTERED`.
    pub registered_merchants: Option<BTreeSet<String>>,
    /// Merchant category codes our risk policy refuses (merchantMCC or storeMCC): `RISK_REJECT`.
    pub blocked_mccs: BTreeSet<String>,
    /// Merchant regions we may not serve (ISO 3166 alpha-2): `REGULATION_RESTRICTION`.
    pub blocked_regions: BTreeSet<String>,
    /// A risk ceiling per debit currency above which one payment is refused outright
    /// (`RISK_REJECT`), independent of the user's own limits.
    pub risk_max_amount: BTreeMap<Currency, MinorUnit>,
    /// Currencies the wallet settles in; when set, a `payToAmount` in another currency is
    /// `CURRENCY_NOT_SUPPORT` before any account is read.
    pub currencies: Option<BTreeSet<Currency>>,
}

impl Policy {
    /// The first rule the request breaks, in this order: PSP, merchant, regulation, currency,
    /// risk.
    pub fn check(
        &self,
        req: &PayRequest,
        debit_currency: Currency,
        debit: MinorUnit,
    ) -> Result<(), ResultCode> {
        if let Some(psp) = &self.psp_id {
            if req.psp_id.as_str() != psp {
                return Err(ResultCode::AccessDenied);
            }
        }
        let merchant = &req.order.merchant;
        let merchant_id = merchant.reference_merchant_id.as_str();
        if self.blocked_merchants.contains(merchant_id)
            || self
                .registered_merchants
                .as_ref()
                .is_some_and(|r| !r.contains(merchant_id))
        {
            return Err(ResultCode::MerchantNotRegistered);
        }
        if self
            .blocked_regions
            .contains(merchant.merchant_address.region.as_str())
        {
            return Err(ResultCode::RegulationRestriction);
        }
        if self
            .currencies
            .as_ref()
            .is_some_and(|c| !c.contains(&debit_currency))
        {
            return Err(ResultCode::CurrencyNotSupport);
        }
        let store_mcc = merchant.store.as_ref().map(|s| s.store_mcc.as_str());
        if self.blocked_mccs.contains(merchant.merchant_mcc.as_str())
            || store_mcc.is_some_and(|m| self.blocked_mccs.contains(m))
        {
            return Err(ResultCode::RiskReject);
        }
        if self
            .risk_max_amount
            .get(&debit_currency)
            .is_some_and(|max| debit > *max)
        {
            return Err(ResultCode::RiskReject);
        }
        Ok(())
    }
}

/// Why a policy setting could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct PolicyError {
    /// The setting.
    pub name: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

fn list(value: Option<String>) -> BTreeSet<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn currency(name: &'static str, code: &str) -> Result<Currency, PolicyError> {
    Currency::from_code(code).ok_or_else(|| PolicyError {
        name,
        reason: format!("{code} is not an ISO 4217 code"),
    })
}

impl Policy {
    /// Reads the policy from settings (environment variables for the Lambdas):
    /// `PSP_ID`; comma-separated `BLOCKED_MERCHANTS`, `REGISTERED_MERCHANTS` (absent: any),
    /// `BLOCKED_MCCS`, `BLOCKED_REGIONS`, `CURRENCIES` (absent: any); and
    /// `RISK_MAX_AMOUNTS` as `KRW:1000000,USD:50000` (minor units).
    pub fn from_settings(get: impl Fn(&str) -> Option<String>) -> Result<Policy, PolicyError> {
        let mut risk_max_amount = BTreeMap::new();
        for item in list(get("RISK_MAX_AMOUNTS")) {
            let (code, value) = item.split_once(':').ok_or_else(|| PolicyError {
                name: "RISK_MAX_AMOUNTS",
                reason: format!("{item} is not CUR:amount"),
            })?;
            let value = MinorUnit::parse_natural(value.trim()).map_err(|e| PolicyError {
                name: "RISK_MAX_AMOUNTS",
                reason: format!("{item}: {e}"),
            })?;
            risk_max_amount.insert(currency("RISK_MAX_AMOUNTS", code.trim())?, value);
        }
        let currencies = match get("CURRENCIES").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(v) => Some(
                list(Some(v))
                    .iter()
                    .map(|c| currency("CURRENCIES", c))
                    .collect::<Result<BTreeSet<_>, _>>()?,
            ),
        };
        let registered = get("REGISTERED_MERCHANTS").filter(|v| !v.trim().is_empty());
        Ok(Policy {
            psp_id: get("PSP_ID").filter(|v| !v.trim().is_empty()),
            blocked_merchants: list(get("BLOCKED_MERCHANTS")),
            registered_merchants: registered.map(|v| list(Some(v))),
            blocked_mccs: list(get("BLOCKED_MCCS")),
            blocked_regions: list(get("BLOCKED_REGIONS")),
            risk_max_amount,
            currencies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn settings_parse_and_bad_ones_name_themselves() {
        let vars: HashMap<&str, &str> = [
            ("BLOCKED_MCCS", "7995, 5933"),
            ("RISK_MAX_AMOUNTS", "KRW:5000000"),
            ("CURRENCIES", "KRW,USD"),
        ]
        .into();
        let p = Policy::from_settings(|k| vars.get(k).map(|v| v.to_string())).unwrap();
        assert!(p.blocked_mccs.contains("7995") && p.blocked_mccs.contains("5933"));
        assert_eq!(p.risk_max_amount.len(), 1);
        assert_eq!(p.currencies.as_ref().map(|c| c.len()), Some(2));
        assert!(p.registered_merchants.is_none());
        let bad =
            Policy::from_settings(|k| (k == "RISK_MAX_AMOUNTS").then(|| "KRW:01".to_string()));
        assert_eq!(bad.unwrap_err().name, "RISK_MAX_AMOUNTS");
        let bad = Policy::from_settings(|k| (k == "CURRENCIES").then(|| "KRW,XXQ".to_string()));
        assert_eq!(bad.unwrap_err().name, "CURRENCIES");
    }
}
