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
    /// A file of the key directory is not usable. `problem` is in fixed words: neither it nor
    /// the source ever quotes the file's contents.
    #[error("{}: {problem}; delete the key directory to generate a new set", .path.display())]
    KeyDirFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: &'static str,
        /// The reader's error, when there is one that quotes nothing of the file.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The key directory holds some of the files of a key set, not all of them.
    #[error(
        "{} holds an incomplete key set (missing {}); delete or empty it to generate a new set",
        .dir.display(),
        .missing.join(", ")
    )]
    KeyDirIncomplete {
        /// The directory.
        dir: PathBuf,
        /// The files that are not there.
        missing: Vec<&'static str>,
    },
    /// A certificate of the key directory has expired, or expires within a day.
    #[error(
        "{} is valid until {} (expired, or expiring within a day); delete the key directory to generate a new set",
        .path.display(),
        date(.not_after)
    )]
    KeyDirExpired {
        /// The certificate file.
        path: PathBuf,
        /// The end of its validity.
        not_after: time::OffsetDateTime,
    },
    /// The key directory was written for another merchant id.
    #[error(
        "{} was written for mchid {found}, not {configured}; give mchid {found} or use another key directory",
        .path.display()
    )]
    KeyDirMchid {
        /// The manifest.
        path: PathBuf,
        /// The merchant id it holds.
        found: String,
        /// The merchant id configured.
        configured: String,
    },
    /// Key files were given for a key directory that holds a generated key set: writing the
    /// given public keys there would break that set.
    #[error("{} holds a generated key set; keys given as files need a key directory of their own", .dir.display())]
    KeyDirInUse {
        /// The directory.
        dir: PathBuf,
    },
}

/// `2030-11-20T04:40:00Z`.
fn date(t: &time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}
