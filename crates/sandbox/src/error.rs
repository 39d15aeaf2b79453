//! The sandbox's own errors (starting it, reading its files); answers to clients are never
//! errors of this type.

use std::path::PathBuf;

/// Why the sandbox could not start or be configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// A file could not be read.
    #[error("cannot read {}", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    /// A file could not be written.
    #[error("cannot write {}", .0.display())]
    Write(PathBuf, #[source] std::io::Error),
    /// A key, certificate or id was refused.
    #[error("unusable key material")]
    Key(#[source] wxpay_protocol::security::KeyError),
    /// Key or certificate generation failed.
    #[error("cannot generate test keys")]
    Generate(#[source] rcgen::Error),
    /// The system's random source failed.
    #[error("the system random source failed")]
    Random,
    /// TLS could not be set up.
    #[error("cannot set up TLS")]
    Tls(#[source] rustls::Error),
    /// A listener could not be bound.
    #[error("cannot listen on {0}")]
    Bind(std::net::SocketAddr, #[source] std::io::Error),
    /// The fixtures are not usable.
    #[error("fixture {index} of `{list}` is unusable: {reason}")]
    Fixture {
        /// Which list.
        list: &'static str,
        /// Its position.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The fixture file is not JSON of the expected form.
    #[error("the fixture file is not valid")]
    FixtureFile(#[source] serde_json::Error),
    /// An inconsistent configuration.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
}
