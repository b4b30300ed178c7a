//! What `up` uploads: the function's zip (`bootstrap` at its root, checked for the Lambda
//! runtime's CPU and glibc) and the SPA (index.html at the zip root, plus its config.json).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Architecture;

/// Use this `bootstrap` instead of building lambda/ (CI caches, prebuilt releases).
pub const ENV_BOOTSTRAP: &str = "PROVISION_BOOTSTRAP";
/// Deploy this directory instead of building frontend/ (must hold index.html).
pub const ENV_SITE_DIR: &str = "PROVISION_SITE_DIR";
/// provided.al2023 ships glibc 2.34: a binary needing a newer symbol fails at cold start.
pub const MAX_GLIBC: (u32, u32) = (2, 34);

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("`{cmd}` failed (exit {code:?}); its output is above")]
    Build { cmd: String, code: Option<i32> },
    #[error("`{tool}` is not installed: {install}")]
    MissingTool { tool: String, install: String },
    #[error("{path}: {message}")]
    Bad { path: PathBuf, message: String },
    #[error("i/o error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A command needs an artifact this run did not build (`--no-build` without a previous build).
    #[error("{0} was not built")]
    NotBuilt(&'static str),
    #[error("packaging {what}: {message}")]
    Package { what: &'static str, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io { path: path.to_owned(), source }
}

/// The function's deployment package.
#[derive(Debug, Clone)]
pub struct LambdaZip {
    pub bytes: Vec<u8>,
    /// base64(sha256(zip)), the form Lambda reports as CodeSha256.
    pub sha256: String,
    pub binary: PathBuf,
    pub elf: ElfInfo,
}

/// The built SPA: files relative to its root.
#[derive(Debug, Clone)]
pub struct SiteDir {
    pub root: PathBuf,
    pub files: Vec<(String, Vec<u8>)>,
    digest: String,
}

#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    pub lambda: Option<LambdaZip>,
    pub site: Option<SiteDir>,
}

impl Artifacts {
    /// What `synth` puts in place of the builds: the template takes the function's zip as
    /// parameters and leaves the site out, so neither is read (their hashes never reach it).
    pub fn for_template() -> Artifacts {
        Artifacts {
            lambda: Some(LambdaZip {
                bytes: Vec::new(),
                sha256: "(the zip named by FunctionCodeBucket/FunctionCodeKey)".to_owned(),
                binary: PathBuf::new(),
                elf: ElfInfo { architecture: Architecture::X86_64, max_glibc: None },
            }),
            site: Some(SiteDir { root: PathBuf::new(), files: Vec::new(), digest: String::new() }),
        }
    }

    pub fn lambda_sha256(&self) -> Result<String, ArtifactError> {
        self.lambda.as_ref().map(|l| l.sha256.clone()).ok_or(ArtifactError::NotBuilt("the function's zip"))
    }

    pub fn lambda_zip(&self) -> Result<&[u8], ArtifactError> {
        self.lambda.as_ref().map(|l| l.bytes.as_slice()).ok_or(ArtifactError::NotBuilt("the function's zip"))
    }

    fn site(&self) -> Result<&SiteDir, ArtifactError> {
        self.site.as_ref().ok_or(ArtifactError::NotBuilt("the web app"))
    }

    /// Identifies the deployed content: the files plus the config written into them.
    pub fn site_sha256(&self, config: &Value) -> Result<String, ArtifactError> {
        let site = self.site()?;
        let config = crate::canonical::canonical_json(config);
        Ok(hex::encode(Sha256::digest(format!("{}\n{config}", site.digest).as_bytes())))
    }

    pub fn site_zip(&self, config: &Value) -> Result<Vec<u8>, ArtifactError> {
        let site = self.site()?;
        let mut files: Vec<(&str, &[u8])> = site.files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
        let package =
            |e: &dyn std::fmt::Display| ArtifactError::Package { what: "the web app", message: e.to_string() };
        let cfg = serde_json::to_vec_pretty(config).map_err(|e| package(&e))?;
        files.push(("config.json", &cfg));
        zip_files(&files, 0o644).map_err(|e| package(&e))
    }
}

/// A deterministic zip (fixed timestamps, sorted entries): same input, same bytes, same hash.
pub fn zip_files(files: &[(&str, &[u8])], mode: u32) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut sorted = files.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(mode);
    for (name, bytes) in sorted {
        w.start_file(name, opts)?;
        w.write_all(bytes)?;
    }
    Ok(w.finish()?.into_inner())
}

/// ELF facts that decide whether Lambda can run the binary.
#[derive(Debug, Clone, PartialEq)]
pub struct ElfInfo {
    pub architecture: Architecture,
    /// Highest GLIBC_x.y symbol version required; None for a static (musl) binary.
    pub max_glibc: Option<(u32, u32)>,
}

pub fn inspect_elf(bytes: &[u8], path: &Path) -> Result<ElfInfo, ArtifactError> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(bytes)
        .map_err(|e| ArtifactError::Bad { path: path.to_owned(), message: format!("not an ELF executable: {e}") })?;
    let architecture = match file.architecture() {
        object::Architecture::X86_64 => Architecture::X86_64,
        object::Architecture::Aarch64 => Architecture::Arm64,
        other => {
            return Err(ArtifactError::Bad {
                path: path.to_owned(),
                message: format!("built for {other:?}; Lambda runs x86_64 or arm64"),
            });
        }
    };
    let mut max_glibc = None;
    if let Some(dynstr) = file.section_by_name(".dynstr")
        && let Ok(data) = dynstr.data()
    {
        for s in data.split(|b| *b == 0) {
            let Some(v) = std::str::from_utf8(s).ok().and_then(|s| s.strip_prefix("GLIBC_")) else { continue };
            let mut it = v.split('.').map(|p| p.parse::<u32>());
            if let (Some(Ok(a)), Some(Ok(b))) = (it.next(), it.next()) {
                max_glibc = max_glibc.max(Some((a, b)));
            }
        }
    }
    Ok(ElfInfo { architecture, max_glibc })
}

/// Refuses a binary that provided.al2023 on `arch` could not start.
pub fn check_for_lambda(info: &ElfInfo, arch: Architecture, path: &Path) -> Result<(), ArtifactError> {
    if info.architecture != arch {
        return Err(ArtifactError::Bad {
            path: path.to_owned(),
            message: format!(
                "is a {} binary but the stack's function.architecture is {}; build for the matching target",
                info.architecture.as_lambda(),
                arch.as_lambda()
            ),
        });
    }
    if let Some((a, b)) = info.max_glibc
        && (a, b) > MAX_GLIBC
    {
        return Err(ArtifactError::Bad {
            path: path.to_owned(),
            message: format!(
                "needs GLIBC_{a}.{b} but provided.al2023 has GLIBC_{}.{}: build with `cargo zigbuild --target <arch>-unknown-linux-gnu.2.34` (install: `pip install ziglang && cargo install cargo-zigbuild`)",
                MAX_GLIBC.0, MAX_GLIBC.1
            ),
        });
    }
    Ok(())
}

fn has_command(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Builds (or takes from `PROVISION_BOOTSTRAP`) the function and zips it.
///
/// `for_aws` builds a release binary for the Lambda runtime (cargo-zigbuild with glibc pinned to
/// 2.34 when available, a native build checked against the glibc ceiling otherwise); the local
/// cloud runs the workspace's own debug build on this machine.
///
/// With `build` false the last build is taken as it is (`up --no-build`, `status`).
pub fn build_lambda(root: &Path, arch: Architecture, for_aws: bool, build: bool) -> Result<LambdaZip, ArtifactError> {
    let binary = match std::env::var_os(ENV_BOOTSTRAP) {
        Some(p) => PathBuf::from(p),
        None if build => cargo_build_bootstrap(root, arch, for_aws)?,
        None => last_build(root, arch, for_aws)?,
    };
    let bytes = std::fs::read(&binary).map_err(io(&binary))?;
    let elf = inspect_elf(&bytes, &binary)?;
    if for_aws {
        check_for_lambda(&elf, arch, &binary)?;
    } else if elf.architecture != Architecture::X86_64 && std::env::consts::ARCH == "x86_64" {
        return Err(ArtifactError::Bad {
            path: binary,
            message: "the local cloud runs the bootstrap on this machine: build it for this CPU".into(),
        });
    }
    let zipped = zip_files(&[("bootstrap", &bytes)], 0o755)
        .map_err(|e| ArtifactError::Bad { path: binary.clone(), message: format!("zipping: {e}") })?;
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zipped));
    Ok(LambdaZip { bytes: zipped, sha256, binary, elf })
}

fn target_triple(arch: Architecture) -> &'static str {
    match arch {
        Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        Architecture::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

/// The newest `bootstrap` a previous build left where `cargo_build_bootstrap` puts it.
fn last_build(root: &Path, arch: Architecture, for_aws: bool) -> Result<PathBuf, ArtifactError> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => root.join(t),
        None => root.join("target"),
    };
    newest_bootstrap(&target, arch, for_aws)
}

fn newest_bootstrap(target: &Path, arch: Architecture, for_aws: bool) -> Result<PathBuf, ArtifactError> {
    let candidates: Vec<PathBuf> = if for_aws {
        vec![target.join(target_triple(arch)).join("release/bootstrap"), target.join("release/bootstrap")]
    } else {
        vec![target.join("debug/bootstrap")]
    };
    candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).ok()?.modified().ok()?, p)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p.clone())
        .ok_or_else(|| ArtifactError::Bad {
            path: candidates[0].clone(),
            message: "no build of the function here yet: run without --no-build".into(),
        })
}

fn cargo_build_bootstrap(root: &Path, arch: Architecture, for_aws: bool) -> Result<PathBuf, ArtifactError> {
    let triple = target_triple(arch);
    let host_matches = (std::env::consts::ARCH == "x86_64") == (arch == Architecture::X86_64);
    let mut cmd = Command::new("cargo");
    if for_aws && has_command("cargo", &["zigbuild", "--help"]) {
        cmd.args(["zigbuild", "--release", "--target", &format!("{triple}.2.34")]);
    } else if for_aws && !host_matches {
        return Err(ArtifactError::MissingTool {
            tool: "cargo-zigbuild".into(),
            install: format!("pip install ziglang && cargo install cargo-zigbuild && rustup target add {triple}"),
        });
    } else if for_aws {
        cmd.args(["build", "--release"]);
    } else {
        // The same packages and features as scripts/up-local's `cargo build` and `cargo test`:
        // cargo unifies dependency features over the packages it is asked for, so
        // `-p image-edit-lambda` alone would build serde, tokio, hyper… a second time.
        cmd.args(["build", "-p", "provisioner"]);
    }
    if for_aws {
        // Without `dev-build` (lambda/Cargo.toml): the AWS function carries no test features.
        cmd.args(["--bin", "bootstrap", "--no-default-features"]);
    }
    cmd.args(["-p", "image-edit-lambda", "--message-format=json-render-diagnostics"])
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let shown = format!("{cmd:?}").replace('"', "");
    let out = cmd.output().map_err(|_| ArtifactError::MissingTool {
        tool: "cargo".into(),
        install: "install Rust with rustup (https://rustup.rs)".into(),
    })?;
    if !out.status.success() {
        return Err(ArtifactError::Build { cmd: shown, code: out.status.code() });
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "bootstrap")
        .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
        .next_back()
        .ok_or(ArtifactError::Build { cmd: shown, code: None })
}

/// Builds the SPA with npm (or takes `PROVISION_SITE_DIR`) and reads its files.
pub fn build_site(root: &Path, run_build: bool) -> Result<SiteDir, ArtifactError> {
    let dir = match std::env::var_os(ENV_SITE_DIR) {
        Some(d) => PathBuf::from(d),
        None => {
            let frontend = root.join("frontend");
            if run_build {
                if !has_command("npm", &["--version"]) {
                    return Err(ArtifactError::MissingTool {
                        tool: "npm".into(),
                        install: "install Node.js 20 with npm (e.g. `apt-get install nodejs npm`)".into(),
                    });
                }
                if !frontend.join("node_modules").is_dir() {
                    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&frontend))?;
                }
                // A build takes seconds (types from the contract, tsc, vite): skip it when nothing
                // it reads changed since the last one, as cargo does for the function.
                let inputs = site_inputs(root);
                let stamp = frontend.join("node_modules/.provision-site-inputs");
                let built = frontend.join("dist/index.html").is_file()
                    && std::fs::read_to_string(&stamp).is_ok_and(|held| held == inputs);
                if !built {
                    run(Command::new("npm").args(["run", "build"]).current_dir(&frontend))?;
                    // Only a cache: without it the next `up` builds again.
                    let _ = std::fs::write(&stamp, &inputs);
                }
            }
            frontend.join("dist")
        }
    };
    read_site(&dir)
}

/// A fingerprint of everything `npm run build` reads: the app's sources and settings, its locked
/// packages, and the contract its types are generated from. Paths in a fixed order, so the same
/// tree gives the same text.
fn site_inputs(root: &Path) -> String {
    let frontend = root.join("frontend");
    let mut files: Vec<PathBuf> =
        ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"]
            .iter()
            .map(|f| frontend.join(f))
            .chain([root.join("docs/openapi.yaml")])
            .collect();
    for dir in ["src", "public"] {
        let mut stack = vec![frontend.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.file_name().and_then(|n| n.to_str()) != Some("openapi.gen.ts") {
                    // (the generated types are an output of the build, not an input)
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    let mut hash = Sha256::new();
    for f in &files {
        hash.update(f.strip_prefix(root).unwrap_or(f).to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(std::fs::read(f).unwrap_or_default());
        hash.update([0]);
    }
    format!("{:x}", hash.finalize())
}

fn run(cmd: &mut Command) -> Result<(), ArtifactError> {
    use std::os::fd::AsFd;
    let shown = format!("{cmd:?}").replace('"', "");
    // What the build prints goes to stderr, with the rest of what people read: stdout is this
    // command's own (one JSON document or NDJSON events under --json).
    let to_stderr =
        std::io::stderr().as_fd().try_clone_to_owned().map(Stdio::from).unwrap_or_else(|_| Stdio::inherit());
    let status = cmd
        .stdout(to_stderr)
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| ArtifactError::Build { cmd: format!("{shown} ({e})"), code: None })?;
    if !status.success() {
        return Err(ArtifactError::Build { cmd: shown, code: status.code() });
    }
    Ok(())
}

pub fn read_site(dir: &Path) -> Result<SiteDir, ArtifactError> {
    if !dir.join("index.html").is_file() {
        return Err(ArtifactError::Bad {
            path: dir.to_owned(),
            message: "has no index.html at its root: build the web app first (`npm run build` in frontend/)".into(),
        });
    }
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(&d))? {
            let path = entry.map_err(io(&d))?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if rel == "config.json" {
                continue; // written per stack at deploy time
            }
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            files.push((rel, bytes));
        }
    }
    files.sort();
    let mut h = Sha256::new();
    for (p, b) in &files {
        h.update(p.as_bytes());
        h.update([0]);
        h.update(Sha256::digest(b));
    }
    Ok(SiteDir { root: dir.to_owned(), files, digest: hex::encode(h.finalize()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_is_rebuilt_when_an_input_changes_and_only_then() {
        let root = tempfile::tempdir().expect("tmp");
        let r = root.path();
        for (f, text) in [
            ("frontend/src/main.ts", "a"),
            ("frontend/src/api/openapi.gen.ts", "generated"),
            ("frontend/package.json", "{}"),
            ("docs/openapi.yaml", "openapi: 3.0.3"),
        ] {
            std::fs::create_dir_all(r.join(f).parent().expect("dir")).expect("mkdir");
            std::fs::write(r.join(f), text).expect("write");
        }
        let first = site_inputs(r);
        assert_eq!(site_inputs(r), first, "the same tree, the same fingerprint");
        std::fs::write(r.join("frontend/src/api/openapi.gen.ts"), "regenerated").expect("write");
        assert_eq!(site_inputs(r), first, "a build output is not an input");
        std::fs::write(r.join("docs/openapi.yaml"), "openapi: 3.0.4").expect("write");
        let contract = site_inputs(r);
        assert_ne!(contract, first, "the contract the types come from");
        std::fs::write(r.join("frontend/src/new.ts"), "b").expect("write");
        assert_ne!(site_inputs(r), contract, "a new source file");
    }

    #[test]
    fn zips_are_deterministic() {
        let a = zip_files(&[("b", b"2"), ("a", b"1")], 0o644).expect("zip");
        let b = zip_files(&[("a", b"1"), ("b", b"2")], 0o644).expect("zip");
        assert_eq!(a, b);
    }

    #[test]
    fn glibc_ceiling_and_architecture_are_enforced() {
        let p = Path::new("bootstrap");
        let ok = ElfInfo { architecture: Architecture::X86_64, max_glibc: Some((2, 34)) };
        assert!(check_for_lambda(&ok, Architecture::X86_64, p).is_ok());
        let new = ElfInfo { architecture: Architecture::X86_64, max_glibc: Some((2, 36)) };
        let err = check_for_lambda(&new, Architecture::X86_64, p).expect_err("2.36 > 2.34").to_string();
        assert!(err.contains("GLIBC_2.36") && err.contains("zigbuild"), "{err}");
        let err = check_for_lambda(&ok, Architecture::Arm64, p).expect_err("arch mismatch").to_string();
        assert!(err.contains("arm64"), "{err}");
    }

    #[test]
    fn reads_this_test_binary() {
        let exe = std::env::current_exe().expect("exe");
        let bytes = std::fs::read(&exe).expect("read");
        let info = inspect_elf(&bytes, &exe).expect("elf");
        assert!(info.max_glibc.is_some());
    }

    #[test]
    fn no_build_takes_the_last_build_or_says_there_is_none() {
        let dir = tempfile::tempdir().expect("tmp");
        let err = newest_bootstrap(dir.path(), Architecture::X86_64, false).unwrap_err().to_string();
        assert!(err.contains("debug/bootstrap") && err.contains("run without --no-build"), "{err}");
        std::fs::create_dir_all(dir.path().join("debug")).expect("mkdir");
        std::fs::write(dir.path().join("debug/bootstrap"), b"x").expect("write");
        assert_eq!(
            newest_bootstrap(dir.path(), Architecture::X86_64, false).expect("found"),
            dir.path().join("debug/bootstrap")
        );
        let err = newest_bootstrap(dir.path(), Architecture::Arm64, true).unwrap_err().to_string();
        assert!(err.contains("aarch64-unknown-linux-gnu/release/bootstrap"), "{err}");
    }
}
