//! moto and the stand-ins on free loopback ports, for tests and benches that drive `provision`
//! against them (through proxies of their own, or directly).

use std::path::PathBuf;

use localcloud::moto::{MotoServer, free_port};

pub struct Cloud {
    pub root: PathBuf,
    pub moto: MotoServer,
    /// `http://127.0.0.1:PORT` of the stand-ins (Amplify, Bedrock, Lambda runtime, gateway).
    pub standins: String,
    _logs: tempfile::TempDir,
}

pub async fn start() -> Cloud {
    let root = super::root();
    let logs = tempfile::tempdir().expect("tmp");
    let port = free_port().expect("port");
    let standins = format!("http://127.0.0.1:{port}");
    let moto = MotoServer::start_with(&root, logs.path(), false, Some(&standins)).await.expect("moto starts");
    let cfg = localcloud::StandInConfig { port, moto: moto.endpoint.clone(), log_dir: logs.path().to_owned() };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    tokio::spawn(async move { localcloud::serve_on(listener, cfg).await });
    Cloud { root, moto, standins, _logs: logs }
}
