//! Runnable examples of wxpay, in `examples/`: `cargo run -p wxpay-examples --example NAME`.
//! They run against the embedded sandbox and need no credentials.
