//! The stack as code: typed constructs whose references form the dependency graph.
//!
//! `image_editor(&config)` is the whole application. Every construct names the constructs it
//! uses through a [`Ref`]; the engine derives the graph (and so the order and the concurrency)
//! from those references alone.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use crate::config::StackConfig;
use crate::models::ModelAccess;

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
    fn new(id: Id) -> Self {
        Ref { id, _kind: PhantomData }
    }
}

#[derive(Debug, Clone)]
pub struct UserPool {
    pub name: String,
    pub self_sign_up: bool,
    pub password_min_length: i32,
    /// The function that vets self sign-ups (`auth.allowed_email_domains`), as the pool's
    /// PreSignUp trigger.
    pub pre_sign_up: Option<Ref<Function>>,
}

#[derive(Debug, Clone)]
pub struct UserPoolClient {
    pub name: String,
    pub pool: Ref<UserPool>,
    /// Also allow USER_PASSWORD_AUTH: only on the local cloud, whose Cognito emulator cannot
    /// verify SRP. On AWS the app and `provision token` sign in with SRP (the password never
    /// leaves the machine) and renew with the refresh token.
    pub password_auth: bool,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct LogGroup {
    pub name: String,
    pub retention_days: i32,
}

/// A permission the function's role must have; the role's single inline policy is derived
/// from the grants of the constructs that use it.
#[derive(Debug, Clone)]
pub enum Grant {
    /// bedrock:InvokeModel on exactly what these model ids need (foundation models, or inference
    /// profiles and their destination models).
    InvokeModels(ModelAccess),
    /// Item reads/writes on exactly this table.
    TableReadWrite(Ref<Table>),
    /// Writing log events to exactly this log group.
    WriteLogs(Ref<LogGroup>),
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub policy_name: String,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub role: Ref<Role>,
    pub table: Ref<Table>,
    pub logs: Ref<LogGroup>,
    /// The app whose origin CORS allows.
    pub app: Ref<AmplifyApp>,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub architecture: &'static str,
    pub family: &'static str,
    pub models: BTreeMap<String, String>,
    pub region: String,
    pub extra_origins: Vec<String>,
    /// `function.reserved_concurrency`.
    pub reserved_concurrency: Option<i32>,
    /// `limits.*`: images a day per user and for the stack.
    pub limits: crate::config::Limits,
    /// `auth.allowed_email_domains`: what the pre sign-up trigger admits.
    pub allowed_email_domains: Vec<String>,
}

/// The routes (`image_edit_contract`, shared with the function).
pub use image_edit_contract::{ROUTES, Route};

#[derive(Debug, Clone)]
pub struct RestApi {
    pub name: String,
    pub stage: String,
    pub pool: Ref<UserPool>,
    pub function: Ref<Function>,
    pub app: Ref<AmplifyApp>,
    pub routes: Vec<Route>,
    /// Origins besides the app's that CORS allows (`cors.extra_origins`).
    pub extra_origins: Vec<String>,
    /// The stage's throttling (`api.throttle`).
    pub throttle: crate::config::Throttle,
}

/// Who a [`Permission`] lets invoke the function: exactly one API or one user pool.
#[derive(Debug, Clone, Copy)]
pub enum Invoker {
    /// Any stage, method and path of this API (`apigateway.amazonaws.com`).
    Api(Ref<RestApi>),
    /// This pool's triggers (`cognito-idp.amazonaws.com`).
    UserPool(Ref<UserPool>),
}

#[derive(Debug, Clone)]
pub struct Permission {
    pub statement_id: String,
    pub function: Ref<Function>,
    pub invoker: Invoker,
}

impl Permission {
    pub fn invoker_id(&self) -> Id {
        match self.invoker {
            Invoker::Api(r) => r.id,
            Invoker::UserPool(r) => r.id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AmplifyApp {
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct AmplifyBranch {
    pub name: String,
    pub app: Ref<AmplifyApp>,
}

/// The built frontend plus its runtime config, deployed to the branch.
#[derive(Debug, Clone)]
pub struct Site {
    pub branch: Ref<AmplifyBranch>,
    pub app: Ref<AmplifyApp>,
    pub api: Ref<RestApi>,
    pub pool: Ref<UserPool>,
    pub client: Ref<UserPoolClient>,
    pub self_sign_up: bool,
}

#[derive(Debug, Clone)]
pub enum Construct {
    UserPool(UserPool),
    UserPoolClient(UserPoolClient),
    Role(Role),
    Table(Table),
    LogGroup(LogGroup),
    Function(Box<Function>),
    RestApi(RestApi),
    Permission(Permission),
    AmplifyApp(AmplifyApp),
    AmplifyBranch(AmplifyBranch),
    Site(Site),
}

impl Construct {
    /// The CloudFormation-style type name, used in output and plans.
    pub fn kind(&self) -> &'static str {
        match self {
            Construct::UserPool(_) => "AWS::Cognito::UserPool",
            Construct::UserPoolClient(_) => "AWS::Cognito::UserPoolClient",
            Construct::Role(_) => "AWS::IAM::Role",
            Construct::Table(_) => "AWS::DynamoDB::Table",
            Construct::LogGroup(_) => "AWS::Logs::LogGroup",
            Construct::Function(_) => "AWS::Lambda::Function",
            Construct::RestApi(_) => "AWS::ApiGateway::RestApi",
            Construct::Permission(_) => "AWS::Lambda::Permission",
            Construct::AmplifyApp(_) => "AWS::Amplify::App",
            Construct::AmplifyBranch(_) => "AWS::Amplify::Branch",
            Construct::Site(_) => "Amplify manual deployment",
        }
    }

    /// The physical name this construct has in the account.
    pub fn name(&self) -> String {
        match self {
            Construct::UserPool(c) => c.name.clone(),
            Construct::UserPoolClient(c) => c.name.clone(),
            Construct::Role(c) => c.name.clone(),
            Construct::Table(c) => c.name.clone(),
            Construct::LogGroup(c) => c.name.clone(),
            Construct::Function(c) => c.name.clone(),
            Construct::RestApi(c) => c.name.clone(),
            Construct::Permission(c) => c.statement_id.clone(),
            Construct::AmplifyApp(c) => c.name.clone(),
            Construct::AmplifyBranch(c) => c.name.clone(),
            Construct::Site(_) => "site".to_owned(),
        }
    }

    /// The constructs this one refers to: the edges of the graph.
    pub fn deps(&self) -> Vec<Id> {
        match self {
            Construct::UserPool(c) => c.pre_sign_up.iter().map(|f| f.id).collect(),
            Construct::Table(_) | Construct::LogGroup(_) | Construct::AmplifyApp(_) => vec![],
            Construct::UserPoolClient(c) => vec![c.pool.id],
            Construct::Role(c) => c
                .grants
                .iter()
                .filter_map(|g| match g {
                    Grant::InvokeModels(_) => None,
                    Grant::TableReadWrite(t) => Some(t.id),
                    Grant::WriteLogs(l) => Some(l.id),
                })
                .collect(),
            Construct::Function(c) => vec![c.role.id, c.table.id, c.logs.id, c.app.id],
            Construct::RestApi(c) => vec![c.pool.id, c.function.id, c.app.id],
            Construct::Permission(c) => vec![c.function.id, c.invoker_id()],
            Construct::AmplifyBranch(c) => vec![c.app.id],
            Construct::Site(c) => vec![c.branch.id, c.app.id, c.api.id, c.pool.id, c.client.id],
        }
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

    fn add<T>(&mut self, id: Id, construct: Construct) -> Ref<T> {
        self.nodes.push(Node { id, construct });
        Ref::new(id)
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
}

/// The image editor: the whole application as constructs.
pub fn image_editor(config: &StackConfig) -> Stack {
    let s = config.name.as_str();
    let mut stack = Stack { config: config.clone(), nodes: Vec::new() };
    // Declared below; the pool names it as its trigger only when sign-ups are vetted, so the
    // function then comes before the pool.
    let function: Ref<Function> = Ref::new("Function");
    let vets_sign_ups = !config.auth.allowed_email_domains.is_empty();

    let pool: Ref<UserPool> = stack.add(
        "UserPool",
        Construct::UserPool(UserPool {
            name: Names::user_pool(s),
            self_sign_up: config.auth.self_sign_up,
            password_min_length: config.auth.password_min_length,
            pre_sign_up: vets_sign_ups.then_some(function),
        }),
    );
    let client: Ref<UserPoolClient> = stack.add(
        "WebClient",
        Construct::UserPoolClient(UserPoolClient { name: Names::client(s), pool, password_auth: config.local }),
    );
    let table: Ref<Table> = stack.add("EditsTable", Construct::Table(Table { name: Names::table(s) }));
    let logs: Ref<LogGroup> = stack.add(
        "FunctionLogs",
        Construct::LogGroup(LogGroup {
            name: Names::function_log_group(s),
            retention_days: config.logs.retention_days,
        }),
    );
    let role: Ref<Role> = stack.add(
        "FunctionRole",
        Construct::Role(Role {
            name: Names::role(s),
            policy_name: Names::policy(s),
            grants: vec![
                Grant::InvokeModels(ModelAccess::documented(config)),
                Grant::TableReadWrite(table),
                Grant::WriteLogs(logs),
            ],
        }),
    );
    let app: Ref<AmplifyApp> = stack.add("WebApp", Construct::AmplifyApp(AmplifyApp { name: Names::app(s) }));
    let _: Ref<Function> = stack.add(
        function.id,
        Construct::Function(Box::new(Function {
            name: Names::function(s),
            role,
            table,
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
        })),
    );
    let api: Ref<RestApi> = stack.add(
        "Api",
        Construct::RestApi(RestApi {
            name: Names::rest_api(s),
            stage: config.api.stage.clone(),
            pool,
            function,
            app,
            routes: ROUTES.to_vec(),
            extra_origins: config.cors.extra_origins.clone(),
            throttle: config.api.throttle,
        }),
    );
    let _permission: Ref<Permission> = stack.add(
        "ApiInvokePermission",
        Construct::Permission(Permission { statement_id: Names::permission(s), function, invoker: Invoker::Api(api) }),
    );
    if vets_sign_ups {
        let _: Ref<Permission> = stack.add(
            "SignUpInvokePermission",
            Construct::Permission(Permission {
                statement_id: Names::sign_up_permission(s),
                function,
                invoker: Invoker::UserPool(pool),
            }),
        );
    }
    let branch: Ref<AmplifyBranch> =
        stack.add("WebBranch", Construct::AmplifyBranch(AmplifyBranch { name: config.frontend.branch.clone(), app }));
    let _site: Ref<Site> = stack
        .add("Site", Construct::Site(Site { branch, app, api, pool, client, self_sign_up: config.auth.self_sign_up }));
    stack
}
