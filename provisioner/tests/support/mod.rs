//! Helpers shared by the integration tests (and, through `#[path]`, the benches). Each user
//! takes a part of them, so what one leaves unused is not dead.
#![allow(dead_code)]

pub mod cloud;
pub mod cors;
pub mod proxy;
