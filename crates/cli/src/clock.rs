//! The system clock, as Unix seconds. The protocol core never reads a clock: the time a request
//! is signed at and the time an answer is checked against are inputs, and here the CLI supplies
//! them (unless `--timestamp` or `--now` does).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::exit::CliError;

/// Now, in Unix seconds.
pub(crate) fn unix_now() -> Result<i64, CliError> {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|_| CliError::Clock)?;
    i64::try_from(since_epoch.as_secs()).map_err(|_| CliError::Clock)
}
