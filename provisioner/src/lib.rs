//! `provision`: the image editor as code.
//!
//! config (stacks/*.yaml) → stack (typed constructs, their references = the graph) → engine
//! (plan / apply, concurrent along the graph) → resources (one module per AWS service).
//! teardown holds the documented deletion order; local starts the local cloud.

pub mod artifacts;
pub mod aws;
pub mod canonical;
pub mod capacity;
pub mod cfn;
pub mod cfn_types;
pub mod cli;
pub mod commands;
pub mod config;
pub mod doctor;
pub mod engine;
pub mod error;
pub mod host_policy;
pub mod local;
pub mod models;
pub mod monitor;
pub mod monitoring;
pub mod printer;
pub mod progress;
pub mod resources;
pub mod session;
pub mod spend;
pub mod stack;
pub mod state;
pub mod subscription;
pub mod synth;
pub mod target;
pub mod teardown;
pub mod users;
