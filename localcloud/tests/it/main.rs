//! The local cloud's integration tests, in one binary: `cargo test -p localcloud --test it --
//! <module>::` runs one.

mod bedrock;
mod cloudwatch;
mod cognito;
mod dynamodb;
mod emf;
mod iam_monitoring;
mod lambda_runtime;
mod s3_links;
mod service_metrics;

/// The project's root: localcloud/'s parent.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("project root").to_path_buf()
}

/// Runs `script` with boto3 (a client nobody here wrote) against `moto`, with `env` on top of the
/// local cloud's credentials and region; its stdout, which the script makes JSON.
pub fn boto3(moto: &localcloud::moto::MotoServer, script: &str, env: &[(&str, &str)]) -> serde_json::Value {
    let python = localcloud::moto::installed(&root()).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_DEFAULT_REGION", "us-west-2")
        .envs(env.iter().copied())
        .output()
        .expect("python runs");
    assert!(out.status.success(), "boto3 script failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// The example function as built next to the tests (`cargo test` builds the examples); it answers
/// `{"pid": …, "pad": "…"}`, which is not an API Gateway proxy response.
pub fn sized_function() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let target = exe.parent().and_then(std::path::Path::parent).expect("target dir");
    let bin = target.join("examples").join("sized_function");
    assert!(bin.is_file(), "{} is missing: run `cargo build -p localcloud --examples`", bin.display());
    bin
}

/// A deployment package: `bootstrap`, executable, alone in a zip.
pub fn zip_of(bootstrap: &std::path::Path) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    zip.start_file("bootstrap", opts).expect("zip entry");
    zip.write_all(&std::fs::read(bootstrap).expect("read bootstrap")).expect("zip write");
    zip.finish().expect("zip");
    out.into_inner()
}
