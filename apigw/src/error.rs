//! The crate's one error type: why an API definition (or the template its functions come
//! from) cannot be run.
//!
//! Requests never fail with these: the emulator answers every request the way API
//! Gateway would (gateway responses), and logs the detail.

use std::path::PathBuf;

/// Why the emulator cannot run a definition. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `openapi.yaml` is not valid YAML or not shaped as API Gateway expects.
    #[error("the API definition {source_name}: {detail}")]
    Definition {
        /// The file (or "embedded openapi.yaml").
        source_name: String,
        /// What is wrong and where (the path inside the document).
        detail: String,
    },
    /// The definition asks for something the emulator does not reproduce: one sentence,
    /// what is used (and where), then what is emulated instead. (local/README.md lists
    /// what is emulated: it documents the `local-stack` command users run.)
    #[error(
        "the API definition uses {what}, which the local stack does not emulate (it emulates {emulated}); see local/README.md"
    )]
    NotEmulated {
        /// What the definition uses, and where.
        what: String,
        /// What the emulator does reproduce in its place.
        emulated: String,
    },
    /// A SAM template could not be read.
    #[error("cannot read the template {}: {detail}", .path.display())]
    Template { path: PathBuf, detail: String },
    /// A function of the template cannot be run locally: one sentence naming the
    /// function and the property.
    #[error("cannot run {function} of {}: {detail}", .path.display())]
    TemplateFunction {
        path: PathBuf,
        function: String,
        detail: String,
    },
    /// An `--env-vars` file or a `--parameter-overrides` value is not usable.
    #[error("{source_name}: {detail}")]
    Overrides { source_name: String, detail: String },
    /// The API definition file could not be read.
    #[error("cannot read the API definition {path}: {source}")]
    ReadDefinition {
        path: PathBuf,
        source: std::io::Error,
    },
}
