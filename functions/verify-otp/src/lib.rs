//! The verify-otp Lambda function: Alipay+ verifyOTP. Does the code the user typed match the
//! one-time password sendOTP sent? One read, one conditional write.

pub mod handler;
