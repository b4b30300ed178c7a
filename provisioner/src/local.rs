//! The local cloud from the provisioner's side: start it (moto + the stand-ins, in the
//! background), point the AWS SDK at it, find it again, stop it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use localcloud::moto::{self, MotoServer};

/// The demo user's password on the local cloud (moto sends no e-mail; nothing real is behind it).
pub const DEMO_PASSWORD: &str = "Demo-editor-2026";

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Moto(#[from] moto::MotoError),
    #[error("could not start the stand-ins: {0}")]
    Spawn(std::io::Error),
    #[error("the stand-ins did not answer on port {port} within {secs} s (log: {log})")]
    NotReady { port: u16, secs: u64, log: PathBuf },
    #[error("i/o error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub endpoint: String,
    pub port: u16,
    pub pid: Option<u32>,
    /// Started by `up --local` (and so stopped by `down --local`).
    pub ours: bool,
}

/// What runs where; saved in `.localcloud/cloud.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalCloud {
    pub moto: Part,
    pub standins: Part,
    pub log_dir: PathBuf,
}

/// Where the local cloud keeps its processes' record and logs (`<root>/.localcloud`, or
/// `PROVISION_LOCALCLOUD_DIR`, which lets tests run a cloud of their own beside yours).
pub fn dir(root: &Path) -> PathBuf {
    std::env::var_os("PROVISION_LOCALCLOUD_DIR").map(PathBuf::from).unwrap_or_else(|| root.join(".localcloud"))
}

fn file(root: &Path) -> PathBuf {
    dir(root).join("cloud.json")
}

async fn answers(url: &str) -> bool {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build();
    match client {
        Ok(c) => c.get(url).send().await.is_ok_and(|r| r.status().is_success()),
        Err(_) => false,
    }
}

impl LocalCloud {
    /// The running local cloud recorded for this checkout, if both parts still answer.
    pub async fn find(root: &Path) -> Option<LocalCloud> {
        let text = std::fs::read_to_string(file(root)).ok()?;
        let cloud: LocalCloud = serde_json::from_str(&text).ok()?;
        let moto_ok = answers(&format!("{}/moto-api/", cloud.moto.endpoint)).await;
        let standins_ok = answers(&format!("{}/_localcloud/health", cloud.standins.endpoint)).await;
        (moto_ok && standins_ok).then_some(cloud)
    }

    /// Finds the running local cloud or starts one: moto (unless `AWS_ENDPOINT_URL` names an
    /// emulator already running) and the stand-ins, both detached so they outlive this command.
    pub async fn ensure(root: &Path, exe: &Path) -> Result<LocalCloud, LocalError> {
        if let Some(c) = LocalCloud::find(root).await {
            return Ok(c);
        }
        let log_dir = dir(root).join("logs");
        std::fs::create_dir_all(&log_dir).map_err(|source| LocalError::Io { path: log_dir.clone(), source })?;
        // The stand-ins' port first: moto runs the user pool's triggers through their Lambda.
        let port = moto::free_port().map_err(LocalError::Spawn)?;
        let standins_endpoint = format!("http://127.0.0.1:{port}");
        let moto = match std::env::var("AWS_ENDPOINT_URL").ok().filter(|s| !s.is_empty()) {
            Some(ep) => Part {
                port: ep.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0),
                endpoint: ep,
                pid: None,
                ours: false,
            },
            None => {
                // The product installs moto on first use (the tests never do: the scripts do).
                moto::ensure_installed(root, &log_dir)?;
                let server = MotoServer::start_with(root, &log_dir, true, Some(&standins_endpoint)).await?;
                let (endpoint, port) = (server.endpoint.clone(), server.port);
                Part { endpoint, port, pid: server.detach(), ours: true }
            }
        };
        let log = log_dir.join("standins.log");
        let out = std::fs::File::create(&log).map_err(|source| LocalError::Io { path: log.clone(), source })?;
        let err = out.try_clone().map_err(|source| LocalError::Io { path: log.clone(), source })?;
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(exe)
                .args(["local-serve", "--port", &port.to_string(), "--moto", &moto.endpoint, "--log-dir"])
                .arg(&log_dir)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .process_group(0)
                .spawn()
                .map_err(LocalError::Spawn)?
        };
        let standins = Part { endpoint: standins_endpoint, port, pid: Some(child.id()), ours: true };
        let started = Instant::now();
        while !answers(&format!("{}/_localcloud/health", standins.endpoint)).await {
            if started.elapsed() > Duration::from_secs(30) {
                return Err(LocalError::NotReady { port, secs: 30, log });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let cloud = LocalCloud { moto, standins, log_dir };
        let path = file(root);
        let text = serde_json::to_string_pretty(&cloud).unwrap_or_default();
        std::fs::write(&path, text).map_err(|source| LocalError::Io { path, source })?;
        Ok(cloud)
    }

    /// Where each service is, by the SDK variable that would name it (`crate::target` points our
    /// clients there; `status` prints them as exports for the `aws` CLI).
    pub fn endpoints(&self) -> Vec<(String, String)> {
        let gw_host = format!("http://execute-api.localhost:{}", self.standins.port);
        vec![
            ("AWS_ENDPOINT_URL".into(), self.moto.endpoint.clone()),
            ("AWS_ENDPOINT_URL_AMPLIFY".into(), self.standins.endpoint.clone()),
            // Cognito passes through the stand-ins, which answer browsers' CORS as Cognito does;
            // the web app's config.json names this endpoint (resources/site.rs).
            ("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".into(), self.standins.endpoint.clone()),
            ("AWS_ENDPOINT_URL_SERVICE_QUOTAS".into(), self.standins.endpoint.clone()),
            // Lambda's control plane passes through the stand-ins, which keep the deployed zip to run it.
            ("AWS_ENDPOINT_URL_LAMBDA".into(), self.standins.endpoint.clone()),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME".into(), self.standins.endpoint.clone()),
            ("AWS_ENDPOINT_URL_BEDROCK".into(), self.standins.endpoint.clone()),
            ("AWS_ENDPOINT_URL_EXECUTE_API".into(), gw_host),
        ]
    }

    /// Stops what `up --local` started; leaves an emulator it did not start running.
    pub fn stop(&self, root: &Path) -> Vec<String> {
        let mut stopped = Vec::new();
        for (name, part) in [("stand-ins", &self.standins), ("moto", &self.moto)] {
            if let (true, Some(pid)) = (part.ours, part.pid) {
                // The process group: moto's server may have children.
                let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pid}")]).status();
                let gone = (0..50).any(|_| {
                    std::thread::sleep(Duration::from_millis(100));
                    !Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid)
                });
                if !gone {
                    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
                }
                stopped.push(format!("{name} (pid {pid}, port {})", part.port));
            }
        }
        let _ = std::fs::remove_file(file(root));
        stopped
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
}
