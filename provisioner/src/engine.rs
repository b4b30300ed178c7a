//! The engine: turns the construct graph into AWS calls.
//!
//! `plan` reads what exists and compares it with what the stack wants; `apply` does the same per
//! construct as soon as the constructs it refers to are done, so independent branches of the
//! graph run concurrently. Intent is journaled before each create and the physical id after it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;

use crate::artifacts::Artifacts;
use crate::aws::Aws;
use crate::progress::{Event, Progress};
use crate::resources::{self, Env, FieldChange, Live, Outputs, Resource, ResourceError};
use crate::stack::{Id, Node, Stack, with_resource};
use crate::state::{Entry, StateFile, Status};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create,
    Update { changes: Vec<FieldChange> },
    NoChange,
}

impl Action {
    pub fn label(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update { .. } => "update",
            Action::NoChange => "no change",
        }
    }
}

/// One construct's planned (or applied) action.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub id: Id,
    pub kind: &'static str,
    pub name: String,
    #[serde(flatten)]
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical: Option<String>,
    #[serde(skip)]
    pub elapsed: Duration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Step {
    /// True when the change touches IAM permissions (called out in plans).
    pub fn touches_iam(&self) -> bool {
        self.kind == "AWS::IAM::Role" && !matches!(self.action, Action::NoChange)
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub steps: Vec<Step>,
    pub outputs: Outputs,
    pub interrupted: bool,
    /// The state file could not be saved at the end (the resources exist all the same; the next
    /// `up` finds them by name): why.
    pub save_error: Option<String>,
}

impl Report {
    pub fn failed(&self) -> Vec<&Step> {
        self.steps.iter().filter(|s| s.error.is_some()).collect()
    }
    pub fn changed(&self) -> usize {
        self.steps.iter().filter(|s| s.error.is_none() && s.action != Action::NoChange).count()
    }
}

/// The action between what exists and what the stack wants: decided by `==` on the typed
/// properties, with the differing fields (as JSON) for the plan to show.
fn decide<P: Serialize + PartialEq>(live: Option<&Live<P>>, want: &P) -> Result<Action, ResourceError> {
    Ok(match live {
        None => Action::Create,
        Some(l) if l.props == *want => Action::NoChange,
        Some(l) => {
            Action::Update { changes: resources::diff(&resources::to_json(&l.props)?, &resources::to_json(want)?) }
        }
    })
}

/// What one construct needs: its desired properties, what exists, and the action between them.
async fn assess<R: Resource>(
    r: &R,
    env: &Env<'_>,
    physical: Option<&str>,
) -> Result<(Action, Option<Live<R::Props>>, R::Props), ResourceError> {
    let want = r.desired(env)?;
    let live = r.read(env, physical).await?;
    let action = decide(live.as_ref(), &want)?;
    Ok((action, live, want))
}

/// What the engine keeps of a converged construct: where it is and what others may read of it.
pub struct Found {
    pub physical: String,
    pub outputs: std::collections::BTreeMap<String, String>,
}

impl<P> From<Live<P>> for Found {
    fn from(l: Live<P>) -> Self {
        Found { physical: l.physical, outputs: l.outputs }
    }
}

/// What `up` would do, without changing anything. Constructs that do not exist yet contribute
/// `${Id.key}` placeholders to the properties of those that refer to them.
pub async fn plan(
    stack: &Stack,
    aws: &Aws,
    account: &str,
    artifacts: &Artifacts,
    state: Option<&StateFile>,
) -> Result<Report, ResourceError> {
    let mut outputs = Outputs::default();
    let mut steps = Vec::new();
    for node in stack.topological() {
        let env = Env { aws, stack, account, outputs: &outputs, artifacts };
        let physical = state.and_then(|s| s.physical(node.id));
        let (action, live) = with_resource!(&node.construct, r => {
            let (action, live, _) = assess(r, &env, physical).await?;
            (action, live.map(Found::from))
        });
        let physical = live.as_ref().map(|l| l.physical.clone());
        if let Some(l) = live {
            outputs.set(node.id, l.outputs);
        }
        steps.push(Step {
            id: node.id,
            kind: node.construct.kind(),
            name: node.construct.name(),
            action,
            physical,
            elapsed: Duration::ZERO,
            error: None,
        });
    }
    Ok(Report { steps, outputs, interrupted: false, save_error: None })
}

/// Converges one construct: read, compare, create or update. Journals through `state`.
async fn converge(node: &Node, env: &Env<'_>, state: &Mutex<StateFile>, progress: &Progress) -> (Step, Option<Found>) {
    let started = Instant::now();
    let kind = node.construct.kind();
    let name = node.construct.name();
    let mut step = Step {
        id: node.id,
        kind,
        name: name.clone(),
        action: Action::NoChange,
        physical: None,
        elapsed: Duration::ZERO,
        error: None,
    };
    let result = with_resource!(&node.construct, r => converge_as(r, node, env, state, progress, &mut step).await);
    step.elapsed = started.elapsed();
    match result {
        Ok(found) => {
            step.physical = Some(found.physical.clone());
            progress.emit(Event::resource("done", node.id, kind, &name, step.action.label()).elapsed(step.elapsed));
            (step, Some(found))
        }
        Err(e) => {
            step.error = Some(e.to_string());
            progress.emit(
                Event::resource("failed", node.id, kind, &name, step.action.label())
                    .elapsed(step.elapsed)
                    .message(e.to_string()),
            );
            (step, None)
        }
    }
}

async fn converge_as<R: Resource>(
    r: &R,
    node: &Node,
    env: &Env<'_>,
    state: &Mutex<StateFile>,
    progress: &Progress,
    step: &mut Step,
) -> Result<Found, ResourceError> {
    let physical = state.lock().ok().and_then(|s| s.physical(node.id).map(str::to_owned));
    let (action, live, want) = assess(r, env, physical.as_deref()).await?;
    step.action = action;
    if step.action != Action::NoChange {
        progress.emit(Event::resource("start", node.id, step.kind, &step.name, step.action.label()));
    }
    let (physical, when) = match (&step.action, live) {
        (Action::NoChange, Some(l)) => {
            journal(state, node, Status::Created, Some(l.physical.clone()))?;
            return Ok(l.into());
        }
        (Action::Update { .. }, Some(l)) => {
            r.update(env, &l, &want).await?;
            (l.physical, "during the update")
        }
        _ => {
            journal(state, node, Status::Creating, None)?;
            (r.create(env, &want).await?, "right after it was created")
        }
    };
    // Read back what the create or update left, by the id it answered with: the outputs others
    // refer to (ARNs, URLs) come from there.
    let live =
        r.read(env, Some(&physical)).await?.ok_or(ResourceError::Vanished { kind: R::KIND, id: physical, when })?;
    journal(state, node, Status::Created, Some(live.physical.clone()))?;
    Ok(live.into())
}

fn journal(
    state: &Mutex<StateFile>,
    node: &Node,
    status: Status,
    physical: Option<String>,
) -> Result<(), ResourceError> {
    let mut s = state.lock().map_err(|_| ResourceError::State("state lock poisoned".into()))?;
    let physical = physical.or_else(|| s.physical(node.id).map(str::to_owned));
    let entry = Entry { kind: node.construct.kind().to_owned(), name: node.construct.name(), status, physical };
    if s.state.resources.get(node.id) == Some(&entry) {
        return Ok(());
    }
    s.record(node.id, entry).map_err(|e| ResourceError::State(e.to_string()))
}

/// Applies the stack. Stops scheduling new constructs after a failure or an interrupt, lets the
/// in-flight ones finish, and returns what happened.
pub async fn apply(
    stack: &Stack,
    aws: &Aws,
    account: &str,
    artifacts: &Artifacts,
    state: &Mutex<StateFile>,
    progress: &Progress,
    interrupt: Arc<AtomicBool>,
) -> Report {
    let mut outputs = Outputs::default();
    let mut report = Report::default();
    let mut pending: Vec<&Node> = stack.topological();
    let mut done: Vec<Id> = Vec::new();
    let mut running = FuturesUnordered::new();
    let mut stop = false;
    loop {
        if !stop {
            let ready: Vec<&Node> =
                pending.iter().copied().filter(|n| n.construct.deps().iter().all(|d| done.contains(d))).collect();
            pending.retain(|n| !ready.iter().any(|r| r.id == n.id));
            for node in ready {
                // Each task sees the outputs of everything finished so far (its deps included).
                let snapshot = outputs.clone();
                running.push(async move {
                    let env = Env { aws, stack, account, outputs: &snapshot, artifacts };
                    crate::aws::CURRENT_NODE.scope(node.id, converge(node, &env, state, progress)).await
                });
            }
        }
        let Some((step, live)) = running.next().await else { break };
        if let Some(l) = live {
            outputs.set(step.id, l.outputs);
            done.push(step.id);
        } else {
            stop = true;
        }
        report.steps.push(step);
        if interrupt.load(Ordering::SeqCst) && !stop {
            stop = true;
            report.interrupted = true;
            progress.emit(Event::info("interrupted: letting in-flight calls finish, then saving state"));
        }
    }
    if let Ok(mut s) = state.lock() {
        s.state.outputs = outputs.clone();
        if let Err(e) = s.save() {
            report.save_error = Some(e.to_string());
        }
    }
    report.outputs = outputs;
    report
}
