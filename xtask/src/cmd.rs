//! A thin wrapper over [`std::process::Command`] that can print itself the way a person would
//! type it.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

/// A command to run: program, arguments, extra environment and working directory.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    /// The program that is executed.
    program: OsString,
    /// The name printed for the program (`cargo` rather than the path in `$CARGO`).
    shown: String,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    dir: PathBuf,
}

impl Cmd {
    /// `cargo` as found on `PATH`: the rustup proxy, which understands `+nightly`.
    pub(crate) fn cargo() -> Self {
        Self::new("cargo")
    }

    /// The cargo that runs xtask (`$CARGO`), so that nested builds use the same toolchain;
    /// `cargo` from `PATH` when run otherwise.
    pub(crate) fn this_cargo() -> Self {
        let mut cmd = Self::cargo();
        if let Some(cargo) = std::env::var_os("CARGO") {
            cmd.program = cargo;
        }
        cmd
    }

    /// `program` with no arguments, run in the workspace root.
    pub(crate) fn new(program: &str) -> Self {
        Self {
            program: program.into(),
            shown: program.to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            dir: crate::workspace_root(),
        }
    }

    /// Appends arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the command.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Runs the command in `dir` instead of the workspace root.
    pub(crate) fn dir(mut self, dir: &Path) -> Self {
        self.dir = dir.to_path_buf();
        self
    }

    /// The `std` command, ready to be configured further.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(&self.dir);
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        command
    }

    /// Runs the command with inherited stdio and waits for it.
    pub(crate) fn status(&self) -> Result<ExitStatus, String> {
        self.command().status().map_err(|e| format!("could not start `{self}`: {e}"))
    }

    /// Runs the command quietly and returns its output (`stdin` closed).
    pub(crate) fn output(&self) -> Result<Output, String> {
        self.command().stdin(Stdio::null()).output().map_err(|e| format!("could not start `{self}`: {e}"))
    }

    /// Runs the command quietly and returns its trimmed stdout if it succeeds.
    pub(crate) fn stdout_if_ok(&self) -> Option<String> {
        let output = self.output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

/// Quotes a word for a POSIX shell if it needs it.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=+./:,@%".contains(&b));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

impl fmt::Display for Cmd {
    /// The command as one would type it: `KEY='v a l' cargo arg ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            write!(f, "{key}={} ", shell_word(value))?;
        }
        f.write_str(&self.shown)?;
        for arg in &self.args {
            write!(f, " {}", shell_word(arg))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_typed() {
        let cmd = Cmd::new("cargo").args(["doc", "--workspace"]).env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(cmd.to_string(), "RUSTDOCFLAGS='-D warnings' cargo doc --workspace");
        assert_eq!(Cmd::new("cargo").args(["+nightly", "fuzz", "it's"]).to_string(), r"cargo +nightly fuzz 'it'\''s'");
    }
}
