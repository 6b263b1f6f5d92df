//! The authorization page Lambda function: the wallet's H5 page of `authUrl` (GET and POST, HTML).

pub mod handler;
