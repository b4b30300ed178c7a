//! Snapshots (insta) of what users read: the CLI's help and the plan of the dev stack — every
//! construct's desired properties, with `${Id.key}` where a value is only known after apply.

use std::process::Command;

use provisioner::artifacts::{Artifacts, ElfInfo, LambdaZip, read_site};
use provisioner::aws::Aws;
use provisioner::config::{self, Architecture};
use provisioner::resources::{Env, Outputs};
use provisioner::stack::image_editor;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_provision")).args(args).env("COLUMNS", "100").output().expect("run");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(&["--help"]));
    insta::assert_snapshot!("help_up", help(&["up", "--help"]));
    insta::assert_snapshot!("help_down", help(&["down", "--help"]));
}

#[test]
fn plan_of_the_dev_stack() {
    let root = crate::support::root();
    let cfg = config::load(&root.join("stacks/dev.yaml")).expect("stacks/dev.yaml is valid");
    let stack = image_editor(&cfg);
    stack.validate().expect("graph is well-formed");
    let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
    let aws = Aws::from_sdk(sdk, &cfg.region);
    let artifacts = Artifacts {
        lambda: Some(LambdaZip {
            bytes: vec![],
            sha256: "<code sha256>".into(),
            binary: "bootstrap".into(),
            elf: ElfInfo { architecture: Architecture::X86_64, max_glibc: Some((2, 34)) },
        }),
        site: Some(read_site(&root.join("provisioner/tests/fixtures/site")).expect("fixture site")),
    };
    let outputs = Outputs::default();
    let env = Env { aws: &aws, stack: &stack, account: "123456789012", outputs: &outputs, artifacts: &artifacts };
    let mut plan = serde_json::Map::new();
    for node in stack.topological() {
        let desired = node.construct.desired(&env).expect("desired");
        plan.insert(
            node.id.to_owned(),
            serde_json::json!({"kind": node.construct.kind(), "depends_on": node.construct.deps(), "properties": desired}),
        );
    }
    insta::assert_yaml_snapshot!("plan_dev", plan);
    insta::assert_debug_snapshot!("critical_path", stack.critical_path_weighted(|_| 1).0);
}
