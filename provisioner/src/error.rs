//! Errors at the CLI edge and the exit codes they map to.

use std::process::ExitCode;

use crate::artifacts::ArtifactError;
use crate::aws::AwsError;
use crate::config::ConfigError;
use crate::local::LocalError;
use crate::resources::ResourceError;
use crate::state::StateError;

/// Exit codes (also listed in `provision --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Usage = 2,
    AwsFailure = 3,
    Partial = 4,
    LeftBehind = 5,
    ChangesPending = 6,
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    State(StateError),
    #[error(transparent)]
    Aws(AwsError),
    #[error(transparent)]
    Artifact(ArtifactError),
    #[error(transparent)]
    Resource(ResourceError),
    #[error(transparent)]
    Local(#[from] LocalError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Synth(#[from] crate::synth::SynthError),
    #[error(transparent)]
    Cfn(#[from] crate::cfn::CfnError),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_)
            | CliError::Config(_)
            | CliError::State(_)
            | CliError::Artifact(_)
            | CliError::Synth(_) => Exit::Usage,
            CliError::Cfn(e) => e.exit(),
            CliError::Aws(_) | CliError::Resource(_) | CliError::Local(_) | CliError::Io(_) => Exit::AwsFailure,
        }
    }
}
