//! The cancelToken Lambda function: the merchant unbinds; the access token and its refresh token
//! stop working.

pub mod handler;
