//! The getPaymentCode Lambda function: the MPP's own app backend asks for payment codes its app
//! shows (user-presented mode, `user-presented-mpp.md` §2); the function asks Alipay+, signed
//! with the MPP's key, verifies the signed answer and hands the codes back. It is served on the
//! internal API (IAM-authorised), never on the route Alipay+ calls, and reads no table.

pub mod handler;
