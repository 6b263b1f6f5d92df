//! The payment-code area: getPaymentCode (MPP → Alipay+, `user-presented-mpp.md` §2), organised
//! by operation as the other areas are (`docs/architecture.md`, "Core: by area, and each area by
//! operation"). Its one operation's module holds its wire types, the port where Alipay+ sits and
//! the flow of the app backend's internal route.

pub mod get_payment_code;

pub use get_payment_code::*;
