//! The applyToken Lambda function: Alipay+ exchanges an authCode for an access and a refresh
//! token, or rotates a pair.

pub mod handler;
