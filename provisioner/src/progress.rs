//! Progress output: one line per resource with its action and elapsed time. A spinner on a TTY,
//! plain lines otherwise (both on stderr); `--json` writes NDJSON events on stdout instead.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `start`, `done`, `failed`, `info`.
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Event {
    pub fn info(message: impl Into<String>) -> Event {
        Event {
            event: "info",
            resource: None,
            kind: None,
            name: None,
            action: None,
            elapsed_ms: None,
            message: Some(message.into()),
        }
    }

    pub fn resource(event: &'static str, id: &str, kind: &str, name: &str, action: &str) -> Event {
        Event {
            event,
            resource: Some(id.to_owned()),
            kind: Some(kind.to_owned()),
            name: Some(name.to_owned()),
            action: Some(action.to_owned()),
            elapsed_ms: None,
            message: None,
        }
    }

    pub fn elapsed(mut self, d: Duration) -> Event {
        self.elapsed_ms = Some(d.as_millis());
        self
    }

    pub fn message(mut self, m: impl Into<String>) -> Event {
        self.message = Some(m.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Spinner,
    Plain,
    Json,
    Quiet,
}

pub struct Progress {
    mode: Mode,
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    pub fn new(json: bool) -> Progress {
        let mode = if json {
            Mode::Json
        } else if std::io::stderr().is_terminal() {
            Mode::Spinner
        } else {
            Mode::Plain
        };
        Progress::with_mode(mode)
    }

    pub fn with_mode(mode: Mode) -> Progress {
        Progress { mode, multi: MultiProgress::new(), bars: Mutex::new(HashMap::new()) }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn emit(&self, e: Event) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Json => crate::printer::Printer::new(true).line(&e),
            Mode::Plain => {
                if let Some(line) = human(&e) {
                    eprintln!("{line}");
                }
            }
            Mode::Spinner => self.spinner(e),
        }
    }

    fn spinner(&self, e: Event) {
        let key = e.resource.clone().unwrap_or_default();
        let Ok(mut bars) = self.bars.lock() else { return };
        match e.event {
            "start" => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(format!(
                    "{:<20} {:<28} {}",
                    key,
                    e.kind.clone().unwrap_or_default(),
                    e.action.clone().unwrap_or_default()
                ));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(key, bar);
            }
            _ => {
                let line = human(&e).unwrap_or_default();
                match bars.remove(&key) {
                    Some(bar) => bar.finish_with_message(line),
                    None => {
                        let _ = self.multi.println(line);
                    }
                }
            }
        }
    }
}

fn human(e: &Event) -> Option<String> {
    let secs = e.elapsed_ms.map(|ms| format!("{:.1}s", ms as f64 / 1000.0)).unwrap_or_default();
    match e.event {
        "info" => e.message.clone(),
        "start" => None,
        ev => {
            let mark = if ev == "failed" { "✗" } else { "✓" };
            let kind = e.kind.as_deref().unwrap_or("");
            let what = if kind.is_empty() {
                format!("{:<49}", e.resource.as_deref().unwrap_or(""))
            } else {
                format!("{:<20} {kind:<28}", e.resource.as_deref().unwrap_or(""))
            };
            let mut line = format!(
                "{mark} {what} {:<10} {:>6}  {}",
                e.action.as_deref().unwrap_or(""),
                secs,
                e.name.as_deref().unwrap_or(""),
            );
            if let Some(m) = &e.message {
                line.push_str(&format!("\n    {m}"));
            }
            Some(line)
        }
    }
}
