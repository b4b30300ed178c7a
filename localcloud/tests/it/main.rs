//! The local cloud's integration tests, in one binary: `cargo test -p localcloud --test it --
//! <module>::` runs one.

mod bedrock;
mod cognito;
mod dynamodb;
mod emf;
mod lambda_runtime;

/// The project's root: localcloud/'s parent.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("project root").to_path_buf()
}
