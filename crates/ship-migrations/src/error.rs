//! The one error type of the library. Every message is a complete paragraph: what went wrong,
//! where (file and line when there is one), and how to fix it. Messages never contain the
//! database password: URLs are shown through [`crate::db::DatabaseUrl::masked`].

/// An error that ends a command. [`Error::exit_code`] maps it to the binary's exit status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A usage, configuration or input problem (bad flag, bad file name, duplicate version,
    /// a migration added below the applied ones): exit status 2. Nothing was changed.
    #[error("{0}")]
    Config(String),
    /// The run failed (database unreachable, lock timeout, changed applied migration, lint
    /// errors, failed command): exit status 1.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    pub fn config(message: impl Into<String>) -> Error {
        Error::Config(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Error {
        Error::Failed(message.into())
    }

    /// 2 for [`Error::Config`], 1 for [`Error::Failed`].
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) => 2,
            Error::Failed(_) => 1,
        }
    }
}
