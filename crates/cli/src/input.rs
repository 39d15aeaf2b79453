//! Reading what the operator gives the CLI, within size limits (issue 11): the `--decode`
//! input (a file, standard input, or `/dev/zero`: reading stops at the limit) and the length of
//! a `--batch` line.

use std::fs::File;
use std::io::{self, Read};

use wxpay_protocol::MAX_ANSWER_BYTES;

use crate::args::Input;
use crate::exit::CliError;

/// The longest `--decode` input: a raw HTTP response whose body is at most the core's
/// [`MAX_ANSWER_BYTES`], with room for its head and chunked framing (1 MiB).
pub(crate) const MAX_DECODE_BYTES: usize = 4 * MAX_ANSWER_BYTES;

/// The longest line of a `--batch` file: 64 KiB (a row is a few ids). The file itself has no
/// limit: it is read as its rows are sent (issue 12), so memory does not grow with it.
pub(crate) const MAX_BATCH_LINE: usize = 64 * 1024;

/// Reads all of `reader`, or an `InvalidData` error once it passes `limit` bytes (at most
/// `limit + 1` bytes are read and held).
fn read_at_most(reader: impl Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("it is longer than {limit} bytes")));
    }
    Ok(bytes)
}

/// Reads the whole `--decode` input, at most [`MAX_DECODE_BYTES`].
pub(crate) fn decode_input(input: &Input) -> Result<Vec<u8>, CliError> {
    let (name, result) = match input {
        Input::Stdin => ("standard input".to_owned(), read_at_most(io::stdin().lock(), MAX_DECODE_BYTES)),
        Input::File(path) => {
            (path.display().to_string(), File::open(path).and_then(|f| read_at_most(f, MAX_DECODE_BYTES)))
        }
    };
    result.map_err(|source| CliError::ReadInput { input: name, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_reader_stops_at_the_limit() {
        let err = read_at_most(io::repeat(0), 1000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(read_at_most(&b"12345"[..], 5).unwrap(), b"12345");
    }
}
