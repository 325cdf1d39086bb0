//! What a read of a read model can fail with. Each read model's `read` module answers with
//! this, never with an HTTP error: the callers (the HTTP layer, the command line, the jobs)
//! decide what a failure means to their own users.

use crate::runner::ProjectionError;

/// Why a read-model query gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database did not answer, or refused the query.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row does not hold what its projection writes (a defect, never input).
    #[error("read model {model}: {message}")]
    Corrupt {
        model: &'static str,
        message: String,
    },
    /// A replay (`crate::replay`) could not apply an event.
    #[error("replay: {0}")]
    Replay(#[from] ProjectionError),
}

impl ReadError {
    /// A row of `model` that does not decode.
    pub fn corrupt(model: &'static str, message: impl std::fmt::Display) -> Self {
        ReadError::Corrupt {
            model,
            message: message.to_string(),
        }
    }

    /// Whether the database was unreachable (a retry may succeed) rather than a defect.
    pub fn is_unavailable(&self) -> bool {
        match self {
            ReadError::Database(e) => infra::pipeline::is_unavailable(e),
            ReadError::Replay(ProjectionError::Database(e)) => infra::pipeline::is_unavailable(e),
            _ => false,
        }
    }
}

/// Decodes a JSON column written by a projection into its domain type.
pub fn from_json<T: serde::de::DeserializeOwned>(
    model: &'static str,
    column: &str,
    value: serde_json::Value,
) -> Result<T, ReadError> {
    serde_json::from_value(value).map_err(|e| ReadError::corrupt(model, format!("{column}: {e}")))
}
