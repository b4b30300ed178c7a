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
    /// This machine, not AWS: a local file or process, or the local cloud, failed.
    Local = 7,
    Interrupted = 130,
}

/// The end of `provision --help`: every exit code and its meaning, from [`Exit::MEANINGS`].
pub fn exit_codes_help() -> String {
    let codes: Vec<String> = Exit::MEANINGS.iter().map(|(e, m)| format!("{} {m}", *e as u8)).collect();
    format!("Exit codes: {}", codes.join(" · "))
}

impl Exit {
    /// What each code means: `provision --help` shows these; docs/troubleshooting.md's table is
    /// kept equal by a test.
    pub const MEANINGS: &[(Exit, &str)] = &[
        (Exit::Ok, "ok"),
        (Exit::Usage, "usage or config error"),
        (Exit::AwsFailure, "AWS failure"),
        (Exit::Partial, "partial success (some changes made, then a failure)"),
        (Exit::LeftBehind, "resources left behind"),
        (Exit::ChangesPending, "changes pending (diff)"),
        (Exit::Local, "local failure (a file, a process or the local cloud on this machine)"),
        (Exit::Interrupted, "interrupted"),
    ];
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
    /// A model the stack uses cannot be subscribed to (its reason and fix).
    #[error("model access: {0}")]
    ModelAccess(String),
}

impl CliError {
    /// The error as the one JSON document `--json` prints on stdout.
    pub fn to_json(&self) -> serde_json::Value {
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        serde_json::json!({"error": {"message": self.to_string(), "causes": causes, "exit": self.exit() as u8}})
    }

    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_)
            | CliError::Config(_)
            | CliError::State(_)
            | CliError::Artifact(_)
            | CliError::Synth(_) => Exit::Usage,
            // A missing or refused build is the same usage error wherever it is found.
            CliError::Resource(ResourceError::Artifact(_)) => Exit::Usage,
            // A stack CloudFormation cannot update must be deleted by the user first.
            CliError::Cfn(crate::cfn::CfnError::NeedsDelete { .. }) => Exit::Usage,
            CliError::Cfn(_) => Exit::AwsFailure,
            CliError::Aws(_) | CliError::Resource(_) | CliError::ModelAccess(_) => Exit::AwsFailure,
            CliError::Local(_) | CliError::Io(_) => Exit::Local,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_troubleshooting_page_lists_every_exit_code() {
        let page = include_str!("../../docs/troubleshooting.md");
        for (code, _) in Exit::MEANINGS {
            let row = format!("| {} |", *code as u8);
            assert!(page.contains(&row), "docs/troubleshooting.md has no row for exit code {}", *code as u8);
        }
        assert!(exit_codes_help().contains("7 local failure"));
    }
}
