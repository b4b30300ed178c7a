//! The moto server: the local control plane for STS, Cognito, IAM, DynamoDB, CloudWatch Logs,
//! Lambda and API Gateway. Installed from PyPI into the project's own `.venv` on first use, exactly
//! as `scripts/python/localcloud.lock` pins it, and started on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// moto and its whole dependency tree, each pinned with its files' hashes: what the local cloud is
/// tested with (`scripts/lock-python` re-resolves it; `scripts/lib.sh` installs the same file).
pub const LOCK: &str = include_str!("../../scripts/python/localcloud.lock");
/// Where `.venv` records which lock it holds (the lock's SHA-256, as `scripts/lib.sh` writes it).
const LOCK_RECORD: &str = ".installed-localcloud.lock";
/// What moto lacks or accepts that AWS does not, patched in before the server starts (each patch
/// names its AWS source): the services' rules, then IAM's, then the start. Run as one script.
pub const SCRIPT: &str = concat!(
    include_str!("moto/base.py"),
    "\n",
    include_str!("moto/apigateway.py"),
    "\n",
    include_str!("moto/dynamodb.py"),
    "\n",
    include_str!("moto/cognito.py"),
    "\n",
    include_str!("moto/logs.py"),
    "\n",
    include_str!("moto/cloudwatch.py"),
    "\n",
    include_str!("moto/iam.py"),
    "\n",
    include_str!("moto/s3.py"),
    "\n",
    include_str!("moto/start.py"),
);

#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error(
        "python3 was not found on PATH; install Python 3.11 with pip (e.g. `apt-get install python3 python3-venv`)"
    )]
    NoPython,
    #[error("could not create the virtualenv {path}: {detail}")]
    Venv { path: PathBuf, detail: String },
    #[error("`pip install --require-hashes -r {lock}` failed (see {log}); check that PyPI is reachable")]
    PipInstall { lock: PathBuf, log: PathBuf },
    #[error("could not start the moto server: {0}")]
    Spawn(std::io::Error),
    #[error("the moto server on port {port} did not answer within {secs} s (log: {log})")]
    NotReady { port: u16, secs: u64, log: PathBuf },
    #[error("the moto server stopped as it started ({status}): {last_line} (log: {log})")]
    Exited { status: String, last_line: String, log: PathBuf },
    #[error("i/o error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// Tests and the moto server do not install: the scripts do (and `provision up --local`,
    /// through [`ensure_installed`], on first use).
    #[error(
        "moto is not installed in {venv} at the version scripts/python/localcloud.lock pins: `./scripts/test-all` and \
         `./scripts/up-local` install it (to install only that: `bash -c 'source scripts/lib.sh && ensure_moto'`)"
    )]
    NotInstalled { venv: PathBuf },
}

/// The python interpreter of the project-local venv when it holds [`LOCK`] (moto importable);
/// installs nothing.
pub fn installed(root: &Path) -> Result<PathBuf, MotoError> {
    let venv = root.join(".venv");
    let python = venv.join("bin").join("python");
    let sum = hex::encode(Sha256::digest(LOCK.as_bytes()));
    let holds_lock = std::fs::read_to_string(venv.join(LOCK_RECORD)).is_ok_and(|s| s.trim() == sum);
    if python.exists() && holds_lock && has_moto(&python) { Ok(python) } else { Err(MotoError::NotInstalled { venv }) }
}

/// Returns the python interpreter of the project-local venv, creating the venv and installing
/// [`LOCK`] into it unless it already holds that very lock (what `provision up --local` does on
/// first use; scripts/lib.sh's `ensure_moto` writes the same record). Progress goes to `log_dir`.
pub fn ensure_installed(root: &Path, log_dir: &Path) -> Result<PathBuf, MotoError> {
    if let Ok(python) = installed(root) {
        return Ok(python);
    }
    let venv = root.join(".venv");
    let python = venv.join("bin").join("python");
    let record = venv.join(LOCK_RECORD);
    let sum = hex::encode(Sha256::digest(LOCK.as_bytes()));
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| MotoError::Io { path, source }
    };
    std::fs::create_dir_all(log_dir).map_err(io(log_dir))?;
    if !python.exists() {
        let out = Command::new("python3").args(["-m", "venv"]).arg(&venv).output().map_err(|_| MotoError::NoPython)?;
        if !out.status.success() {
            return Err(MotoError::Venv { path: venv, detail: String::from_utf8_lossy(&out.stderr).trim().to_owned() });
        }
    }
    let lock = log_dir.join("localcloud.lock");
    std::fs::write(&lock, LOCK).map_err(io(&lock))?;
    let log = log_dir.join("pip-install.log");
    let log_file = std::fs::File::create(&log).map_err(io(&log))?;
    let log_err = log_file.try_clone().map_err(io(&log))?;
    let _ = std::fs::remove_file(&record);
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--require-hashes", "-r"])
        .arg(&lock)
        .stdout(log_file)
        .stderr(log_err)
        .status()
        .map_err(MotoError::Spawn)?;
    if !status.success() || !has_moto(&python) {
        return Err(MotoError::PipInstall { lock, log });
    }
    std::fs::write(&record, format!("{sum}\n")).map_err(io(&record))?;
    Ok(python)
}

fn has_moto(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import moto.server, flask"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A free TCP port on 127.0.0.1 (the OS picks it; the listener is closed before returning).
pub fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}

/// A running moto server. Dropping it stops the process unless it was [`MotoServer::detach`]ed.
#[derive(Debug)]
pub struct MotoServer {
    child: Option<Child>,
    pub port: u16,
    pub endpoint: String,
    pub log: PathBuf,
}

impl MotoServer {
    /// Starts moto (installed: see [`installed`]) on a free port, waiting until it answers.
    /// `detached` puts the server in its own process group so it outlives the caller.
    pub async fn start(root: &Path, log_dir: &Path, detached: bool) -> Result<Self, MotoError> {
        Self::start_with(root, log_dir, detached, None).await
    }

    /// [`start`](Self::start), told where the stand-ins' Lambda Invoke endpoint is
    /// (`http://127.0.0.1:PORT`), so the Cognito patches can run a pool's PreSignUp trigger.
    pub async fn start_with(
        root: &Path,
        log_dir: &Path,
        detached: bool,
        lambda_endpoint: Option<&str>,
    ) -> Result<Self, MotoError> {
        Self::start_with_env(root, log_dir, detached, lambda_endpoint, &[]).await
    }

    /// [`start_with`](Self::start_with), with `env` set for the server on top of the environment
    /// it inherits: how a test gives one server its own `LOCALCLOUD_ALARM_EVALUATION_SECONDS`
    /// without changing the test process's environment, which the other tests share.
    pub async fn start_with_env(
        root: &Path,
        log_dir: &Path,
        detached: bool,
        lambda_endpoint: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Self, MotoError> {
        std::fs::create_dir_all(log_dir).map_err(|source| MotoError::Io { path: log_dir.to_owned(), source })?;
        let python = installed(root)?;
        // The script is run from a file: as one `-c` argument it would meet Linux's limit on the
        // length of a single argument (MAX_ARG_STRLEN, 128 KiB), and a traceback names its lines.
        let script = log_dir.join("moto-server.py");
        std::fs::write(&script, SCRIPT).map_err(|source| MotoError::Io { path: script.clone(), source })?;
        let mut last = None;
        // A port picked by the OS can be taken between our probe and moto's bind: retry a few times.
        for _ in 0..3 {
            let port = free_port().map_err(MotoError::Spawn)?;
            let log = log_dir.join("moto.log");
            let out = std::fs::File::create(&log).map_err(|source| MotoError::Io { path: log.clone(), source })?;
            let err = out.try_clone().map_err(|source| MotoError::Io { path: log.clone(), source })?;
            let mut cmd = Command::new(&python);
            // moto.server, with the patches that make it as strict as AWS (localcloud/src/moto/).
            cmd.arg(&script)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                // Lambda's default account concurrency, with 100 kept unreserved: moto enforces
                // PutFunctionConcurrency against it only when told the quota.
                .env("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000")
                .env("LOCALCLOUD_LAMBDA_ENDPOINT", lambda_endpoint.unwrap_or_default())
                // Where the CloudWatch patch writes the e-mail SNS "sends" (notifications.jsonl).
                .env("LOCALCLOUD_LOG_DIR", std::path::absolute(log_dir).unwrap_or_else(|_| log_dir.to_owned()))
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err);
            if detached {
                use std::os::unix::process::CommandExt;
                cmd.process_group(0);
            }
            let child = cmd.spawn().map_err(MotoError::Spawn)?;
            let mut server =
                MotoServer { child: Some(child), port, endpoint: format!("http://127.0.0.1:{port}"), log: log.clone() };
            match server.wait_ready(Duration::from_secs(60)).await {
                Ok(()) => return Ok(server),
                Err(e) => {
                    server.stop();
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(MotoError::NotReady { port: 0, secs: 0, log: log_dir.join("moto.log") }))
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<(), MotoError> {
        let start = Instant::now();
        let client = reqwest::Client::new();
        // `/moto-api/data.json` answers 500 once some resources exist; the dashboard root does not.
        let url = format!("{}/moto-api/", self.endpoint);
        while start.elapsed() < limit {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                // A patch that no longer fits moto stops it here, its reason the log's last line.
                let text = std::fs::read_to_string(&self.log).unwrap_or_default();
                let last_line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").to_owned();
                return Err(MotoError::Exited { status: status.to_string(), last_line, log: self.log.clone() });
            }
            if let Ok(resp) = client.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(MotoError::NotReady { port: self.port, secs: limit.as_secs(), log: self.log.clone() })
    }

    /// Forgets every resource (moto's `/moto-api/reset`).
    pub async fn reset(&self) -> Result<(), reqwest::Error> {
        reqwest::Client::new().post(format!("{}/moto-api/reset", self.endpoint)).send().await?.error_for_status()?;
        Ok(())
    }

    /// The process id, for the local state file.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Leaves the server running after this handle is gone; returns its pid.
    pub fn detach(mut self) -> Option<u32> {
        self.child.take().map(|c| c.id())
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_venv_the_error_says_which_command_installs_it() {
        let empty = tempfile::tempdir().expect("temp dir");
        let e = installed(empty.path()).expect_err("nothing is installed there");
        assert!(matches!(e, MotoError::NotInstalled { .. }));
        let said = e.to_string();
        assert!(said.contains("./scripts/test-all") && said.contains("ensure_moto"), "{said}");
    }
}
