//! The function's integration tests, in one binary: `cargo test -p image-edit-lambda --test it --
//! <module>::` runs one.

mod bad_inputs;
mod bedrock_errors;
mod common;
mod golden;
mod limits;
mod moto;
mod openapi;
