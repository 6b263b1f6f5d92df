//! The consultUnbinding Lambda function: the MPP's own app backend lists a customer's bindings
//! and undoes one from inside the wallet (`account-binding.md` §6). The function asks Alipay+
//! consultUnbinding, signed with the MPP's key, with the binding's live token (derived with
//! `kms:GenerateMac` on the token key); when allowed it revokes the binding and writes authNotify
//! TOKEN_CANCELED in the same transaction (`mpp_core::flows::unbinding`). Served on the internal
//! API (IAM-authorised), never on the routes Alipay+ calls.

pub mod handler;
