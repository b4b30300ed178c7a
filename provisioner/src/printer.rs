//! The one place commands write to the terminal. stdout carries a command's result: under
//! `--json` only JSON (one document, or one JSON line per event for the commands that stream),
//! otherwise its human form. Notes, progress and questions go to stderr, so `--json` output can
//! always be piped into a JSON reader.

use std::io::{self, Write};

use serde::Serialize;

/// A command's result: serialised as it is under `--json`, rendered by `human` otherwise.
pub trait Report: Serialize {
    fn human(&self, out: &mut dyn Write) -> io::Result<()>;
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    json: bool,
}

impl Printer {
    pub fn new(json: bool) -> Printer {
        Printer { json }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// A command's result.
    pub fn result(&self, report: &impl Report) {
        if self.json {
            self.line(report);
        } else {
            write_stdout(|out| report.human(out));
        }
    }

    /// A result without a type of its own: `doc` under `--json`, `human` otherwise.
    pub fn document(&self, doc: &impl Serialize, human: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if self.json {
            self.line(doc);
        } else {
            write_stdout(human);
        }
    }

    /// One JSON line on stdout (an event of a streaming command, under `--json`).
    pub fn line(&self, doc: &impl Serialize) {
        // Serialising our own types fails only on a map with non-string keys, which none has.
        let text = serde_json::to_string(doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        write_stdout(|out| writeln!(out, "{text}"));
    }

    /// Human lines on stdout; nothing under `--json`.
    pub fn human(&self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if !self.json {
            write_stdout(write);
        }
    }

    /// A note on stderr; silent under `--json` (whose readers want stdout only).
    pub fn note(&self, line: impl AsRef<str>) {
        if !self.json {
            eprintln!("{}", line.as_ref());
        }
    }
}

/// Writes to stdout, ignoring a reader that went away (`provision status | head`).
fn write_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
    let mut out = io::stdout().lock();
    if let Err(e) = write(&mut out).and_then(|()| out.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("could not write to stdout: {e}");
    }
}
