//! The notify Lambda function: notifyPayment (MPP → Alipay+) for every payment that reached a
//! final state. Two event sources feed it: the payments table's DynamoDB Stream (first
//! attempts) and the SQS retry queue (later attempts, delayed by the schedule). Both report
//! partial batch failures, so one bad record never blocks or re-sends the others.

pub mod handler;
