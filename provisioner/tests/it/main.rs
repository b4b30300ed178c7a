//! The provisioner's integration tests, in one binary (each module was its own binary, each
//! linking most of the AWS SDK): `cargo test -p provisioner --test it -- <module>::` runs one.

mod alarms;
mod cloudformation;
mod contract;
mod docs;
mod faults;
mod local_cloud;
mod moto;
mod snapshots;
mod support;
mod synth;
mod watch;
