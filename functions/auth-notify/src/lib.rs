//! The authNotify Lambda function (MPP → Alipay+, `account-binding.md` §5): every notification a
//! binding transition wrote to the outbox (`notify#` items of the bindings table) is delivered
//! from the table's DynamoDB Stream (first attempts) and the SQS retry queue (later attempts) by
//! the same machinery as notifyPayment (`mpp_aws::notify_lambda`, `mpp_core::flows::notify`).

pub mod handler;
