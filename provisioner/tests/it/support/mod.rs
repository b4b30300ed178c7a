//! Helpers shared by the integration tests (and, through `#[path]`, the benches, which take a
//! part of them: what a bench leaves unused is not dead).
#![allow(dead_code)]

pub mod cloud;
pub mod cors;
pub mod proxy;

/// The project's root (the workspace, where `stacks/`, `docs/` and `frontend/` are).
pub fn root() -> std::path::PathBuf {
    provisioner::config::project_root(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).expect("project root")
}

/// What a `provision` run ended with.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
