//! The send-otp Lambda function: Alipay+ sendOTP. A merchant challenges an auto-debit user; we
//! send a one-time password by SMS (SNS) or e-mail (SES) and answer its `verifyRequestId`.

pub mod handler;
