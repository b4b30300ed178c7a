//! The stack as code: typed constructs whose references form the dependency graph.
//!
//! `image_editor(&config)` is the whole application. Every construct names the constructs it
//! uses through a [`Ref`]; the engine derives the graph (and so the order and the concurrency)
//! from those references alone.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use crate::config::StackConfig;
use crate::models::ModelAccess;
pub use crate::resources::Resource;
pub use crate::resources::alarm::Alarm;
pub use crate::resources::amplify_app::AmplifyApp;
pub use crate::resources::amplify_branch::AmplifyBranch;
pub use crate::resources::bucket::Bucket;
pub use crate::resources::dashboard::Dashboard;
pub use crate::resources::function::Function;
pub use crate::resources::log_group::LogGroup;
pub use crate::resources::permission::{Invoker, Permission};
pub use crate::resources::rest_api::RestApi;
pub use crate::resources::role::{Grant, Role};
pub use crate::resources::site::Site;
pub use crate::resources::table::Table;
pub use crate::resources::topic::Topic;
pub use crate::resources::user_pool::UserPool;
pub use crate::resources::user_pool_client::UserPoolClient;
/// The routes (`image_edit_contract`, shared with the function).
pub use image_edit_contract::{ROUTES, Route};

/// The logical id of a construct in its stack ("UserPool", "Function", …).
pub type Id = &'static str;

/// A typed reference to another construct of the same stack.
#[derive(Debug)]
pub struct Ref<T> {
    pub id: Id,
    _kind: PhantomData<T>,
}

impl<T> Clone for Ref<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Ref<T> {}

impl<T> Ref<T> {
    const fn new(id: Id) -> Self {
        Ref { id, _kind: PhantomData }
    }
}

/// One output of a kind (`UserPool::ARN`, `Function::NAME`): with a [`Ref`] of the same kind, the
/// only way to read another construct's outputs, so a key the kind does not have, or a reference
/// to another kind, does not compile. It carries how a CloudFormation template names it.
#[derive(Debug)]
pub struct Out<T> {
    pub key: &'static str,
    pub cfn: Cfn,
    _kind: PhantomData<T>,
}

/// How a CloudFormation template names an output of a construct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cfn {
    /// What `Ref` returns (`${Id}` in `Fn::Sub`).
    Ref,
    /// A `Fn::GetAtt` attribute (`${Id.Attribute}`).
    Attr(&'static str),
    /// Composed by the kind from other values (`Resource::derived_output` says how).
    Derived,
    /// Not expressible in a template (known only to the engine).
    Absent,
}

impl<T> Clone for Out<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Out<T> {}

impl<T> Out<T> {
    /// An output the template gets from `Ref`.
    pub const fn reference(key: &'static str) -> Self {
        Out { key, cfn: Cfn::Ref, _kind: PhantomData }
    }
    /// An output the template gets from `Fn::GetAtt` with `attribute`.
    pub const fn attribute(key: &'static str, attribute: &'static str) -> Self {
        Out { key, cfn: Cfn::Attr(attribute), _kind: PhantomData }
    }
    /// An output the kind composes in a template (see `Resource::derived_output`).
    pub const fn derived(key: &'static str) -> Self {
        Out { key, cfn: Cfn::Derived, _kind: PhantomData }
    }
    /// An output only the engine knows.
    pub const fn engine_only(key: &'static str) -> Self {
        Out { key, cfn: Cfn::Absent, _kind: PhantomData }
    }
}

/// The image editor's constructs as typed handles (a CDK stack's fields): the one place their
/// logical ids are written. Code outside `image_editor` names a construct through these, so
/// reading an output the construct's kind does not have does not compile.
pub struct Editor {
    pub pool: Ref<UserPool>,
    pub client: Ref<UserPoolClient>,
    pub table: Ref<Table>,
    /// The kept results (`history.keep_days`).
    pub results: Ref<Bucket>,
    pub logs: Ref<LogGroup>,
    pub role: Ref<Role>,
    pub app: Ref<AmplifyApp>,
    pub function: Ref<Function>,
    pub api: Ref<RestApi>,
    pub api_permission: Ref<Permission>,
    pub sign_up_permission: Ref<Permission>,
    pub branch: Ref<AmplifyBranch>,
    pub site: Ref<Site>,
    /// The host's monitoring: the topic the alarms notify, the alarms (`monitoring::ALARMS`, in
    /// that order) and the dashboard.
    pub topic: Ref<Topic>,
    pub alarms: [Ref<Alarm>; 4],
    pub dashboard: Ref<Dashboard>,
}

pub const EDITOR: Editor = Editor {
    pool: Ref::new("UserPool"),
    client: Ref::new("WebClient"),
    table: Ref::new("EditsTable"),
    results: Ref::new("ResultsBucket"),
    logs: Ref::new("FunctionLogs"),
    role: Ref::new("FunctionRole"),
    app: Ref::new("WebApp"),
    function: Ref::new("Function"),
    api: Ref::new("Api"),
    api_permission: Ref::new("ApiInvokePermission"),
    sign_up_permission: Ref::new("SignUpInvokePermission"),
    branch: Ref::new("WebBranch"),
    site: Ref::new("Site"),
    topic: Ref::new("AlarmTopic"),
    alarms: [
        Ref::new("ServerErrorsAlarm"),
        Ref::new("ThrottlingAlarm"),
        Ref::new("ModelErrorsAlarm"),
        Ref::new("DailyImagesAlarm"),
    ],
    dashboard: Ref::new("Dashboard"),
};

/// One of the stack's outputs: its CloudFormation output name, its field in `outputs --json`
/// and `up`'s summary, and the construct output it is.
#[derive(Debug, Clone, Copy)]
pub struct StackOutput {
    /// The template's output name (read back after a CloudFormation deploy).
    pub name: &'static str,
    /// The field of `provision outputs --json`.
    pub field: &'static str,
    pub id: Id,
    pub key: &'static str,
    pub description: &'static str,
}

impl StackOutput {
    const fn new<T>(
        name: &'static str,
        field: &'static str,
        r: Ref<T>,
        out: Out<T>,
        description: &'static str,
    ) -> Self {
        StackOutput { name, field, id: r.id, key: out.key, description }
    }
}

/// The stack's outputs, once: the template's `Outputs`, `provision outputs --json`, and what a
/// CloudFormation deploy's outputs are read back into all come from this table.
pub const STACK_OUTPUTS: &[StackOutput] = &[
    StackOutput::new(
        "AppUrl",
        "appUrl",
        EDITOR.app,
        AmplifyApp::ORIGIN,
        "The web app (after the site is deployed to the branch)",
    ),
    StackOutput::new("ApiUrl", "apiUrl", EDITOR.api, RestApi::URL, "The REST API's stage URL (the SPA's apiUrl)"),
    StackOutput::new("UserPoolId", "userPoolId", EDITOR.pool, UserPool::ID, "Cognito user pool (the SPA's userPoolId)"),
    StackOutput::new(
        "UserPoolClientId",
        "userPoolClientId",
        EDITOR.client,
        UserPoolClient::ID,
        "App client (the SPA's userPoolClientId)",
    ),
    StackOutput::new(
        "AmplifyAppId",
        "amplifyAppId",
        EDITOR.app,
        AmplifyApp::ID,
        "Amplify app to deploy the built site to",
    ),
    StackOutput::new("RestApiId", "restApiId", EDITOR.api, RestApi::ID, "REST API id"),
    StackOutput::new("TableName", "table", EDITOR.table, Table::NAME, "Edit history table"),
    StackOutput::new(
        "ResultsBucketName",
        "resultsBucket",
        EDITOR.results,
        Bucket::NAME,
        "Kept results (the images made)",
    ),
    StackOutput::new("FunctionName", "function", EDITOR.function, Function::NAME, "Editing function"),
    StackOutput::new("LogGroupName", "logGroup", EDITOR.logs, LogGroup::NAME, "The function's log group"),
];

/// Every construct kind, once: the enum the stack holds and the one dispatch from a construct
/// to its kind's [`Resource`] implementation (`with_resource!`).
macro_rules! constructs {
    // `$d` is a `$` handed in, so that the inner macro can have variables of its own.
    ($d:tt $($kind:ident: $ty:ty),* $(,)?) => {
        #[derive(Debug, Clone)]
        pub enum Construct {
            $($kind(Box<$ty>),)*
        }

        $(
            impl From<$ty> for Construct {
                fn from(c: $ty) -> Self {
                    Construct::$kind(Box::new(c))
                }
            }

            impl Kind for $ty {
                fn of(c: &Construct) -> Option<&Self> {
                    match c {
                        Construct::$kind(x) => Some(x),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )*

        /// Runs `$body` with `$r` bound to the construct's own type (so generic code over
        /// [`Resource`] is monomorphised per kind).
        macro_rules! with_resource {
            ($d c:expr, $d r:ident => $d body:expr) => {
                match $d c {
                    $($crate::stack::Construct::$kind($d r) => { let $d r: &$ty = $d r; $d body })*
                }
            };
        }
        pub(crate) use with_resource;
    };
}

constructs! {
    $
    UserPool: crate::stack::UserPool,
    UserPoolClient: crate::stack::UserPoolClient,
    Role: crate::stack::Role,
    Table: crate::stack::Table,
    Bucket: crate::stack::Bucket,
    LogGroup: crate::stack::LogGroup,
    Function: crate::stack::Function,
    RestApi: crate::stack::RestApi,
    Permission: crate::stack::Permission,
    AmplifyApp: crate::stack::AmplifyApp,
    AmplifyBranch: crate::stack::AmplifyBranch,
    Site: crate::stack::Site,
    Topic: crate::stack::Topic,
    Alarm: crate::stack::Alarm,
    Dashboard: crate::stack::Dashboard,
}

/// A construct's own type, found in the enum.
pub trait Kind: Resource {
    fn of(c: &Construct) -> Option<&Self>;
}

impl Construct {
    /// The CloudFormation-style type name, used in output and plans.
    pub fn kind(&self) -> &'static str {
        fn kind_of<R: Resource>(_: &R) -> &'static str {
            R::KIND
        }
        with_resource!(self, r => kind_of(r))
    }

    /// The physical name this construct has in the account.
    pub fn name(&self) -> String {
        with_resource!(self, r => r.name())
    }

    /// The constructs this one refers to: the edges of the graph.
    pub fn deps(&self) -> Vec<Id> {
        with_resource!(self, r => r.deps())
    }

    /// The desired properties as plans show them.
    pub fn desired(
        &self,
        env: &crate::resources::Env<'_>,
    ) -> Result<serde_json::Value, crate::resources::ResourceError> {
        with_resource!(self, r => crate::resources::to_json(&r.desired(env)?))
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: Id,
    pub construct: Construct,
}

/// A stack: its settings and its constructs, in declaration order.
#[derive(Debug, Clone)]
pub struct Stack {
    pub config: StackConfig,
    pub nodes: Vec<Node>,
}

impl Stack {
    /// Replaces the documented model access of every role with `access` (read from AWS).
    pub fn set_model_access(&mut self, access: &ModelAccess) {
        for node in &mut self.nodes {
            if let Construct::Role(role) = &mut node.construct {
                for g in &mut role.grants {
                    if let Grant::InvokeModels(a) = g {
                        *a = access.clone();
                    }
                }
            }
        }
    }

    /// The model access of the function's role.
    pub fn model_access(&self) -> Option<&ModelAccess> {
        self.nodes.iter().find_map(|n| match &n.construct {
            Construct::Role(r) => r.grants.iter().find_map(|g| match g {
                Grant::InvokeModels(a) => Some(a),
                _ => None,
            }),
            _ => None,
        })
    }

    /// Adds the construct a handle stands for (declared in [`EDITOR`], so a construct may refer
    /// to one added after it).
    fn define<R: Kind>(&mut self, r: Ref<R>, construct: R) -> Ref<R>
    where
        Construct: From<R>,
    {
        self.nodes.push(Node { id: r.id, construct: construct.into() });
        r
    }

    /// The construct a reference stands for: an error (never a default) when the stack does
    /// not hold it as that kind.
    pub fn resolve<R: Kind>(&self, from: &str, r: Ref<R>) -> Result<&R, crate::resources::ResourceError> {
        self.node(r.id).and_then(|n| R::of(&n.construct)).ok_or(crate::resources::ResourceError::Unresolved {
            from: from.to_owned(),
            to: r.id,
            kind: R::KIND,
        })
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Nodes in an order where every node comes after its dependencies.
    pub fn topological(&self) -> Vec<&Node> {
        let mut done: Vec<Id> = Vec::new();
        let mut out = Vec::new();
        while out.len() < self.nodes.len() {
            let before = out.len();
            for n in &self.nodes {
                if !done.contains(&n.id) && n.construct.deps().iter().all(|d| done.contains(d)) {
                    done.push(n.id);
                    out.push(n);
                }
            }
            if out.len() == before {
                break; // a cycle; `validate` reports it
            }
        }
        out
    }

    /// The graph is well-formed: every reference resolves, no cycles.
    pub fn validate(&self) -> Result<(), String> {
        for n in &self.nodes {
            for d in n.construct.deps() {
                if self.node(d).is_none() {
                    return Err(format!("{} refers to {d}, which is not in the stack", n.id));
                }
            }
        }
        if self.topological().len() != self.nodes.len() {
            return Err("the stack's references form a cycle".to_owned());
        }
        Ok(())
    }

    /// The heaviest chain of dependent constructs when each construct weighs `weight(id)`
    /// (e.g. its number of sequential AWS calls): the lower bound of a concurrent apply.
    pub fn critical_path_weighted(&self, weight: impl Fn(Id) -> u64) -> (Vec<Id>, u64) {
        let mut best: BTreeMap<Id, (Vec<Id>, u64)> = BTreeMap::new();
        for n in self.topological() {
            let (mut chain, w) =
                n.construct.deps().iter().filter_map(|d| best.get(d)).max_by_key(|c| c.1).cloned().unwrap_or_default();
            chain.push(n.id);
            best.insert(n.id, (chain, w + weight(n.id)));
        }
        best.into_values().max_by_key(|c| c.1).unwrap_or_default()
    }
}

/// Physical names, all derived from the stack name so stacks live side by side.
pub struct Names;

impl Names {
    pub fn user_pool(stack: &str) -> String {
        format!("{stack}-users")
    }
    pub fn client(stack: &str) -> String {
        format!("{stack}-web")
    }
    pub fn role(stack: &str) -> String {
        format!("{stack}-edit-fn")
    }
    pub fn policy(stack: &str) -> String {
        format!("{stack}-edit-fn-least-privilege")
    }
    pub fn table(stack: &str) -> String {
        format!("{stack}-edits")
    }
    pub fn function(stack: &str) -> String {
        format!("{stack}-edit")
    }
    pub fn function_log_group(stack: &str) -> String {
        format!("/aws/lambda/{}", Names::function(stack))
    }
    pub fn rest_api(stack: &str) -> String {
        format!("{stack}-api")
    }
    /// API Gateway's execution log group for a stage, if logging was ever enabled on it.
    pub fn api_log_group_prefix(api_id: &str) -> String {
        format!("API-Gateway-Execution-Logs_{api_id}/")
    }
    pub fn permission(stack: &str) -> String {
        format!("{stack}-apigw-invoke")
    }
    pub fn sign_up_permission(stack: &str) -> String {
        format!("{stack}-cognito-invoke")
    }
    pub fn app(stack: &str) -> String {
        format!("{stack}-web")
    }
    pub fn topic(stack: &str) -> String {
        format!("{stack}-alarms")
    }
    pub fn alarm(stack: &str, suffix: &str) -> String {
        format!("{stack}-{suffix}")
    }
    /// Every alarm of the stack (`monitoring::ALARMS`).
    pub fn alarms(stack: &str) -> Vec<String> {
        crate::monitoring::ALARMS.iter().map(|a| Names::alarm(stack, a.suffix)).collect()
    }
    pub fn dashboard(stack: &str) -> String {
        format!("{stack}-image-editor")
    }
}

/// The image editor: the whole application as constructs.
pub fn image_editor(config: &StackConfig) -> Stack {
    let s = config.name.as_str();
    let mut stack = Stack { config: config.clone(), nodes: Vec::new() };
    // Declared below; the pool names it as its trigger only when sign-ups are vetted, so the
    // function then comes before the pool.
    let function = EDITOR.function;
    let vets_sign_ups = !config.auth.allowed_email_domains.is_empty();

    let pool = stack.define(
        EDITOR.pool,
        UserPool {
            name: Names::user_pool(s),
            self_sign_up: config.auth.self_sign_up,
            password_min_length: config.auth.password_min_length,
            pre_sign_up: vets_sign_ups.then_some(function),
            workshop: config.auth.workshop_name.clone().unwrap_or_else(|| format!("the {s} image editor")),
            app: EDITOR.app,
        },
    );
    let client = stack.define(EDITOR.client, UserPoolClient { name: Names::client(s), pool });
    let table = stack.define(EDITOR.table, Table { name: Names::table(s) });
    let logs = stack.define(
        EDITOR.logs,
        LogGroup { name: Names::function_log_group(s), retention_days: config.logs.retention_days },
    );
    let app = stack.define(EDITOR.app, AmplifyApp { name: Names::app(s) });
    let results = stack.define(
        EDITOR.results,
        Bucket {
            stack: s.to_owned(),
            region: config.region.clone(),
            keep_days: config.history.keep_days,
            app,
            extra_origins: config.cors.extra_origins.clone(),
        },
    );
    let role = stack.define(
        EDITOR.role,
        Role {
            name: Names::role(s),
            policy_name: Names::policy(s),
            grants: vec![
                Grant::InvokeModels(ModelAccess::documented(config)),
                Grant::TableReadWrite(table),
                Grant::KeepResults(results),
                Grant::WriteLogs(logs),
            ],
        },
    );
    let _ = stack.define(
        function,
        Function {
            name: Names::function(s),
            role,
            table,
            results,
            keep_days: config.history.keep_days,
            logs,
            app,
            memory_mb: config.function.memory_mb,
            timeout_s: config.function.timeout_s,
            architecture: config.function.architecture.as_lambda(),
            family: config.family.as_str(),
            models: config.models.clone(),
            region: config.region.clone(),
            extra_origins: config.cors.extra_origins.clone(),
            reserved_concurrency: config.function.reserved_concurrency,
            limits: config.limits,
            allowed_email_domains: config.auth.allowed_email_domains.clone(),
        },
    );
    let api = stack.define(
        EDITOR.api,
        RestApi {
            name: Names::rest_api(s),
            stage: config.api.stage.clone(),
            pool,
            function,
            app,
            routes: ROUTES.to_vec(),
            extra_origins: config.cors.extra_origins.clone(),
            throttle: config.api.throttle,
        },
    );
    stack.define(
        EDITOR.api_permission,
        Permission { statement_id: Names::permission(s), function, invoker: Invoker::Api(api) },
    );
    if vets_sign_ups {
        stack.define(
            EDITOR.sign_up_permission,
            Permission { statement_id: Names::sign_up_permission(s), function, invoker: Invoker::UserPool(pool) },
        );
    }
    let branch = stack.define(EDITOR.branch, AmplifyBranch { name: config.frontend.branch.clone(), app });
    stack.define(EDITOR.site, Site { branch, app, api, pool, client, self_sign_up: config.auth.self_sign_up });

    // The host's monitoring (monitoring.rs): alarms that notify a topic, and a dashboard.
    let topic = stack.define(EDITOR.topic, Topic { name: Names::topic(s), email: config.monitoring.email.clone() });
    for (handle, kind) in EDITOR.alarms.into_iter().zip(crate::monitoring::ALARMS) {
        stack.define(handle, kind.alarm(config, topic));
    }
    stack.define(
        EDITOR.dashboard,
        Dashboard { name: Names::dashboard(s), body: crate::monitoring::dashboard_body(config) },
    );
    stack
}
