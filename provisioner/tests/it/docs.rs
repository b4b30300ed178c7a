//! The docs cannot rot: the `console` blocks of README.md and docs/workshop.md run against a
//! fresh local cloud and their shown output must appear; every relative link resolves; the README
//! starts with the two commands, and their scripts exist.
//!
//! Convention (docs/workshop.md follows it): in a ```console block, `$ ` starts a command (one
//! line); the lines after it are expected output — each must appear, in order, among the
//! command's output lines (others may come between); `[..]` matches any text; `[exit: N]` gives
//! the exit code (default 0). All blocks of one file run top to bottom in one bash session.

use crate::support::root;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn markdown_files() -> Vec<PathBuf> {
    let r = root();
    let mut files = vec![r.join("README.md"), r.join("cleanup/README.md"), r.join("frontend/README.md")];
    for e in std::fs::read_dir(r.join("docs")).expect("docs/") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    files.retain(|p| p.exists());
    files
}

/// `[text](target)` targets outside code blocks and inline code.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop inline code spans.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].split_whitespace().next().unwrap_or_default().to_owned());
            rest = &after[end..];
        }
    }
    out
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        for l in links(&text) {
            if l.is_empty() || l.starts_with('#') || l.contains("://") || l.starts_with("mailto:") {
                continue;
            }
            let path = l.split('#').next().unwrap_or_default();
            let target = file.parent().expect("dir").join(path);
            checked += 1;
            if !target.exists() {
                broken.push(format!("{}: {l}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 20, "only {checked} links checked: is the parser blind?");
}

#[test]
fn readme_starts_with_the_two_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let first_block = readme.split("```").nth(1).expect("a code block");
    let commands: Vec<&str> = first_block
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .collect();
    assert_eq!(commands, ["./scripts/up-local", "./scripts/test-all"]);
    let before = readme.split("```").next().unwrap_or_default();
    assert_eq!(before.lines().filter(|l| !l.trim().is_empty()).count(), 1, "only the title comes before them");
    for s in ["scripts/up-local", "scripts/test-all"] {
        let p = root().join(s);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).expect(s).permissions().mode();
        assert!(mode & 0o111 != 0, "{s} is not executable");
        let ok = Command::new("bash").arg("-n").arg(&p).status().expect("bash");
        assert!(ok.success(), "{s} does not parse");
    }
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(ci.contains("./scripts/test-all"), ".ci/run runs the README's test command");
}

struct Step {
    command: String,
    expected: Vec<String>,
    exit: i32,
}

fn console_steps(text: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut inside: Option<bool> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(info) = t.strip_prefix("```") {
            inside = match inside {
                None => Some(info.trim() == "console"),
                Some(_) => None,
            };
            continue;
        }
        if inside != Some(true) {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push(Step { command: cmd.to_owned(), expected: vec![], exit: 0 });
        } else if let Some(code) = line.strip_prefix("[exit: ").and_then(|s| s.strip_suffix(']')) {
            steps.last_mut().expect("output before a command").exit = code.parse().expect("exit code");
        } else if !line.trim().is_empty() {
            assert!(!line.starts_with('#'), "no comments in console blocks: {line}");
            steps.last_mut().expect("output before a command").expected.push(line.trim_end().to_owned());
        }
    }
    steps
}

/// `[..]` matches any text; the rest must match the whole line exactly.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line.ends_with(last) || line.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// The workspace's debug `bootstrap` (built by `cargo test --workspace`; see local_cloud.rs).
fn bootstrap() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_provision"));
    let b = exe.with_file_name("bootstrap");
    assert!(b.exists(), "{} missing: run `cargo build -p image-edit-lambda` (or cargo test --workspace)", b.display());
    b
}

/// A scratch project (its own stacks/, the real .venv) so the docs may edit stacks/*.yaml.
fn scratch_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let r = root();
    std::fs::copy(r.join("Cargo.toml"), dir.path().join("Cargo.toml")).expect("Cargo.toml");
    std::fs::create_dir(dir.path().join("stacks")).expect("stacks");
    for e in std::fs::read_dir(r.join("stacks")).expect("stacks/") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, dir.path().join("stacks").join(p.file_name().expect("name"))).expect("copy");
    }
    // moto's venv, installed by the scripts (the tests install nothing).
    if let Err(e) = localcloud::moto::installed(&r) {
        panic!("{e}");
    }
    std::os::unix::fs::symlink(r.join(".venv"), dir.path().join(".venv")).expect("symlink .venv");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_provision"), bin.join("provision")).expect("symlink provision");
    dir
}

fn run_doc(doc: &str) -> usize {
    let text = std::fs::read_to_string(root().join(doc)).expect(doc);
    let steps = console_steps(&text);
    if steps.is_empty() {
        return 0;
    }
    let project = scratch_project();
    let p = project.path();
    let mut script = String::from("set +e\n");
    for (i, s) in steps.iter().enumerate() {
        script.push_str(&format!(
            "printf '\\n@@step {i}@@\\n'\n{{ {}\n}} 2>&1 </dev/null\nprintf '\\n@@exit {i} %d@@\\n' $?\n",
            s.command
        ));
    }
    // Whatever the doc did, leave no local cloud running.
    script.push_str("provision down --local --yes >/dev/null 2>&1\n");
    let path = format!("{}:{}", p.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut child = Command::new("bash")
        .args(["--noprofile", "--norc", "-s"])
        .current_dir(p)
        .env("PATH", path)
        .env("PROVISION_LOCALCLOUD_DIR", p.join(".localcloud"))
        .env("PROVISION_STATE_DIR", p.join(".provision"))
        .env("PROVISION_BOOTSTRAP", bootstrap())
        .env("PROVISION_SITE_DIR", root().join("provisioner/tests/fixtures/site"))
        .env("COLUMNS", "120")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("PROVISION_STACK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    child.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("script");
    let out = child.wait_with_output().expect("bash output");
    let all = String::from_utf8_lossy(&out.stdout).into_owned();

    let mut failures = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let start = format!("@@step {i}@@");
        let section = all.split(&start).nth(1).unwrap_or_default();
        let (body, tail) = section.split_once(&format!("@@exit {i} ")).unwrap_or((section, ""));
        let code: i32 = tail.split("@@").next().and_then(|c| c.trim().parse().ok()).unwrap_or(-1);
        let lines: Vec<&str> = body.lines().map(str::trim_end).collect();
        if code != s.exit {
            failures.push(format!("$ {}\n  exit {code}, the doc says {}\n{body}", s.command, s.exit));
            continue;
        }
        let mut at = 0;
        for want in &s.expected {
            match lines[at..].iter().position(|l| matches(want, l)) {
                Some(j) => at += j + 1,
                None => {
                    failures.push(format!("$ {}\n  expected (in order): {want}\n  got:\n{body}", s.command));
                    break;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{doc}: {} of {} commands differ from the doc:\n\n{}",
        failures.len(),
        steps.len(),
        failures.join("\n\n")
    );
    steps.len()
}

#[test]
fn the_workshop_runs_as_written_on_the_local_cloud() {
    let n = run_doc("docs/workshop.md");
    assert!(n >= 20, "the workshop shows only {n} runnable commands");
}

#[test]
fn the_readme_console_blocks_run_as_written() {
    run_doc("README.md");
}

#[test]
fn wildcard_matching() {
    assert!(matches(
        "App URL:      http://main.[..].amplifyapp.localhost:[..]",
        "App URL:      http://main.d1.amplifyapp.localhost:4000"
    ));
    assert!(!matches("no changes", "3 changes"));
    assert!(matches("[..]", "anything"));
    assert!(!matches("a[..]b[..]c", "a-c-b"));
}

/// docs/setup.md's region and model tables are the catalogue's (lambda/contract/src/catalogue.rs), as
/// `provisioner::models::docs_tables` renders them. `UPDATE_DOCS=1` rewrites them in place.
#[test]
fn the_setup_page_shows_the_model_catalogue() {
    let path = root().join("docs/setup.md");
    let page = std::fs::read_to_string(&path).expect("setup.md");
    let (start, end) = ("<!-- models:begin -->\n", "<!-- models:end -->");
    let a = page.find(start).expect("setup.md has the models:begin marker") + start.len();
    let b = page.find(end).expect("setup.md has the models:end marker");
    let want = provisioner::models::docs_tables();
    if page[a..b] != want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, format!("{}{want}{}", &page[..a], &page[b..])).expect("write setup.md");
        } else {
            panic!("docs/setup.md's model tables differ from the catalogue; run with UPDATE_DOCS=1:\n{want}");
        }
    }
}
