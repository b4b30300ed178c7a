//! The Regional REST API (API Gateway): Cognito authorizer, the function's routes behind it,
//! MOCK OPTIONS preflights, CORS on gateway errors, a stage, and a deployment whenever the
//! definition changed (its hash is the deployment's description).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_apigateway::types::{
    AuthorizerType, EndpointConfiguration, EndpointType, GatewayResponseType, IntegrationType, Op, PatchOperation,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::amplify_app::AmplifyApp;
use super::function::Function;
use super::user_pool::UserPool;
use super::{Env, Live, Resource, ResourceError, Tags, tags_from, to_json};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::stack::{EDITOR, Id, Names, Out, Ref, Route};
use crate::state::StateFile;
use crate::synth::{SynthError, Template, Val, tag_list, val};
use crate::target::Target;
use crate::teardown::{Step, owned, recorded, tag_map};

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

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Authorizer {
    pub name: String,
    pub r#type: String,
    pub provider_arns: Vec<String>,
    pub identity_source: String,
}

/// A method: a route behind the authorizer (`AWS_PROXY` to the function) or an open `MOCK`
/// preflight with its headers and response template.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Method {
    pub authorization: String,
    /// The authorizer by name (`cognito-user-pool`), or the id of one that is not this stack's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<String>,
    pub integration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

impl Method {
    /// The header names a preflight's method response declares: its static headers and the
    /// origin its template sets.
    pub fn preflight_response_headers(&self) -> Vec<String> {
        let mut names: Vec<String> = self.headers.iter().flat_map(|h| h.keys().cloned()).collect();
        names.push("Access-Control-Allow-Origin".to_owned());
        names.sort();
        names
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GatewayResponse {
    /// The status the type answers with, when not the type's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub template: Option<String>,
}

/// The gateway responses this API customizes. Both defaults get CORS, so the page reads every
/// error the gateway makes itself (a 401 must reach the app as a 401, not as a CORS failure). Two
/// say that trying again is right, and when: the stage throttle (`THROTTLED`, 429) and a Lambda
/// that refused to run the function because the account's concurrency was used up
/// (`INTEGRATION_FAILURE`: API Gateway's 500 "Internal server error" for a rejected invocation,
/// Lambda developer guide, "Handling Lambda errors with an API Gateway API"). That one becomes a
/// 503: nothing ran, so the request is safe to send again. API Gateway sends no `Retry-After` of
/// its own; these send one second, and clients back off from there (docs/api.md, "Retrying").
pub const GATEWAY_RESPONSE_TYPES: [&str; 4] = ["DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "INTEGRATION_FAILURE"];

/// Seconds a client waits before sending a request the gateway throttled (or Lambda did) again.
pub const GATEWAY_RETRY_AFTER_SECS: u32 = 1;

/// What a deployment deploys; its hash decides when to deploy again.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Definition {
    pub name: String,
    pub endpoint: String,
    pub authorizer: Option<Authorizer>,
    /// `"VERB /path"` → method.
    pub methods: BTreeMap<String, Method>,
    /// Response type (`DEFAULT_4XX`, …) → response.
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    /// The stage's name (None before the first deployment).
    pub stage: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Throttle {
    pub rate: f64,
    pub burst: i32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    #[serde(flatten)]
    pub definition: Definition,
    /// The hash of `definition` the stage's deployment carries.
    pub deployed_definition: Option<String>,
    /// Stage settings, not part of a deployment: a change applies at once, without redeploying.
    pub throttle: Option<Throttle>,
    /// The API's tags (set at creation, kept in step with the stack file by TagResource).
    pub tags: Tags,
}

/// What other constructs (and `synth`) may read of a RestApi.
impl RestApi {
    pub const ID: Out<Self> = Out::reference("id");
    /// The stage's invoke URL.
    pub const URL: Out<Self> = Out::derived("url");
    /// The stage's name.
    pub const STAGE: Out<Self> = Out::engine_only("stage");
}

impl Resource for RestApi {
    const KIND: &'static str = "AWS::ApiGateway::RestApi";
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::ID, Self::URL, Self::STAGE];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![self.pool.id, self.function.id, self.app.id]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        let definition = definition(self, env);
        Ok(Props {
            deployed_definition: Some(hash(&to_json(&definition)?)),
            definition,
            throttle: Some(Throttle { rate: self.throttle.rate, burst: self.throttle.burst }),
            tags: env.tags().clone(),
        })
    }

    async fn read(&self, env: &Env<'_>, physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env, self, physical).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        apply(env, self, want, None).await
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        apply(env, self, want, Some(live)).await.map(drop)
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        synth(self, id, want, t)
    }

    /// The stage's invoke URL.
    fn derived_output(&self, id: Id, key: &str, _stack: &crate::stack::Stack) -> Option<String> {
        (key == Self::URL.key)
            .then(|| format!("https://${{{id}}}.execute-api.${{AWS::Region}}.amazonaws.com/{}", self.stage))
    }
}

pub const AUTHORIZER_NAME: &str = "cognito-user-pool";
/// How every route is authorized: the Cognito user pool authorizer.
pub const AUTHORIZATION: &str = "COGNITO_USER_POOLS";
/// Where the authorizer finds the ID token.
const IDENTITY_SOURCE: &str = "method.request.header.Authorization";
/// Request headers a page may send. `Content-Type` and `Authorization` are the contract's; the
/// seed application's frontend also sends `Access-Control-Allow-Origin` and
/// `Access-Control-Allow-Headers` as *request* headers (a quirk its users' copies keep), and a
/// browser asks for them in `Access-Control-Request-Headers`. The function sends the same list:
/// both read it from `image_edit_contract`.
pub use image_edit_contract::CORS_ALLOW_HEADERS as ALLOW_HEADERS;
pub const ALLOW_METHODS: &str = "GET,POST,DELETE,OPTIONS";
/// Seconds a browser may reuse a preflight answer (Chromium caps it at 7200, Firefox at 86400);
/// without it every POST waits for a new preflight after 5 s.
pub const PREFLIGHT_MAX_AGE: &str = "600";
/// The body of every error API Gateway makes itself (401, 403, 413, 429, 502, 504), in the
/// function's error shape. A gateway response template gets simple variable substitution only
/// (api-gateway-swagger-extensions-gateway-responses.responseTemplates.html), so the code is the
/// gateway response type itself (`UNAUTHORIZED`, `THROTTLED`, …): upper case tells a client the
/// gateway answered, not the function.
pub const ERROR_TEMPLATE: &str =
    r#"{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}"#;
const DEPLOYMENT_PREFIX: &str = "definition sha256:";

/// Where a deployed stage is served. `AWS_ENDPOINT_URL_EXECUTE_API` (the local cloud's gateway,
/// e.g. `http://execute-api.localhost:4510`) gets the API id as its first DNS label, the same
/// shape as AWS's `https://{id}.execute-api.{region}.amazonaws.com/{stage}`.
pub fn stage_url(target: &Target, api_id: &str, region: &str, stage: &str) -> String {
    match target.gateway() {
        Some(ep) => {
            let (scheme, host) = ep.split_once("://").unwrap_or(("http", ep.as_str()));
            format!("{scheme}://{api_id}.{}/{stage}", host.trim_end_matches('/'))
        }
        _ => format!("https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"),
    }
}

/// Every resource path the routes need, parents included ("/", "/edits", "/edits/{id}").
pub fn resource_paths(c: &RestApi) -> BTreeSet<String> {
    let mut paths = BTreeSet::from(["/".to_owned()]);
    for r in &c.routes {
        let mut acc = String::new();
        for seg in r.path.split('/').filter(|s| !s.is_empty()) {
            acc.push('/');
            acc.push_str(seg);
            paths.insert(acc.clone());
        }
    }
    paths
}

/// The origins CORS allows: the app's, then `cors.extra_origins`.
fn origins(c: &RestApi, env: &Env<'_>) -> Vec<String> {
    let mut o = vec![env.outputs.get(c.app, AmplifyApp::ORIGIN)];
    o.extend(c.extra_origins.iter().cloned());
    o
}

/// The preflights' integration response template. A MOCK integration's header mappings are
/// static, so they can name one origin only; this template sets `Access-Control-Allow-Origin` to
/// the request's `Origin` when it is exactly one of `origins`, and leaves it out otherwise (the
/// browser then blocks the page) — API Gateway's documented response override
/// (apigateway-override-request-response-parameters.html). The header is read under both
/// spellings: browsers send `Origin` over HTTP/1.1 and `origin` over HTTP/2, and
/// `$input.params().header` keeps the name as sent.
pub fn preflight_template(origins: &[String]) -> String {
    let allowed: Vec<String> = origins.iter().map(|o| format!("$origin == '{o}'")).collect();
    format!(
        "#set($origin = $input.params().header.get('Origin'))\n\
         #if(\"$!origin\" == \"\")\n\
         #set($origin = $input.params().header.get('origin'))\n\
         #end\n\
         #if({})\n\
         #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n\
         #end\n",
        allowed.join(" || ")
    )
}

/// The OPTIONS method of every resource: open (a browser sends no token with a preflight), MOCK.
fn preflight(origins: &[String]) -> Method {
    Method {
        authorization: "NONE".to_owned(),
        authorizer: None,
        integration: IntegrationType::Mock.as_str().to_owned(),
        uri: None,
        headers: Some(headers([
            ("Access-Control-Allow-Headers", format!("'{ALLOW_HEADERS}'")),
            ("Access-Control-Allow-Methods", format!("'{ALLOW_METHODS}'")),
            ("Access-Control-Max-Age", format!("'{PREFLIGHT_MAX_AGE}'")),
            ("Vary", "'Origin'".to_owned()),
        ])),
        template: Some(preflight_template(origins)),
    }
}

fn headers<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The headers that let the page read the gateway's own errors (a 401 must reach the app as a
/// 401, not as a CORS failure). A gateway response has no template logic, so with one origin it
/// names that origin, and with extra origins it allows any (`*`): these error bodies carry no
/// data, and a page of a foreign origin never gets further, because the preflight (which does
/// check) refuses it the `Authorization` header. Not the request's own `Origin`
/// (`method.request.header.Origin`): how API Gateway matches that header's case is not documented,
/// and HTTP/2 browsers send it as `origin`.
fn gateway_response(origins: &[String]) -> GatewayResponse {
    let origin = match origins {
        [one] => format!("'{one}'"),
        _ => "'*'".to_owned(),
    };
    GatewayResponse {
        status: None,
        headers: headers([
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Headers", format!("'{ALLOW_HEADERS}'")),
            ("Access-Control-Allow-Methods", format!("'{ALLOW_METHODS}'")),
            // Retry-After is not a CORS-safelisted response header: the page reads it only so.
            ("Access-Control-Expose-Headers", "'Retry-After'".to_owned()),
            ("Vary", "'Origin'".to_owned()),
        ]),
        template: Some(ERROR_TEMPLATE.to_owned()),
    }
}

/// The definition without its deployment marker.
pub fn definition(c: &RestApi, env: &Env<'_>) -> Definition {
    let fn_arn = env.outputs.get(c.function, Function::ARN);
    let uri = format!("arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{fn_arn}/invocations", env.region());
    let origins = origins(c, env);
    let mut methods = BTreeMap::new();
    for p in resource_paths(c) {
        methods.insert(format!("OPTIONS {p}"), preflight(&origins));
    }
    for r in &c.routes {
        methods.insert(
            format!("{} {}", r.method, r.path),
            Method {
                authorization: AUTHORIZATION.to_owned(),
                authorizer: Some(AUTHORIZER_NAME.to_owned()),
                integration: IntegrationType::AwsProxy.as_str().to_owned(),
                uri: Some(uri.clone()),
                headers: None,
                template: None,
            },
        );
    }
    Definition {
        name: c.name.clone(),
        endpoint: EndpointType::Regional.as_str().to_owned(),
        authorizer: Some(Authorizer {
            name: AUTHORIZER_NAME.to_owned(),
            r#type: AuthorizerType::CognitoUserPools.as_str().to_owned(),
            provider_arns: vec![env.outputs.get(c.pool, UserPool::ARN)],
            identity_source: IDENTITY_SOURCE.to_owned(),
        }),
        methods,
        gateway_responses: GATEWAY_RESPONSE_TYPES
            .into_iter()
            .map(|kind| {
                let mut r = gateway_response(&origins);
                if matches!(kind, "THROTTLED" | "INTEGRATION_FAILURE") {
                    r.headers.insert("Retry-After".to_owned(), format!("'{GATEWAY_RETRY_AFTER_SECS}'"));
                }
                if kind == "INTEGRATION_FAILURE" {
                    r.status = Some("503".to_owned());
                }
                (kind.to_owned(), r)
            })
            .collect(),
        stage: Some(c.stage.clone()),
    }
}

fn hash(v: &Value) -> String {
    hex::encode(Sha256::digest(crate::canonical::canonical_json(v).as_bytes()))
}

/// REST APIs with this name (API names are not unique in API Gateway).
pub async fn find(aws: &Aws, name: &str) -> Result<Vec<String>, AwsError> {
    let mut ids = Vec::new();
    let mut position = None;
    loop {
        let out = aws
            .apigateway
            .get_rest_apis()
            .limit(500)
            .set_position(position)
            .send()
            .await
            .ctx("apigateway:GetRestApis")?;
        ids.extend(out.items().iter().filter(|a| a.name() == Some(name)).filter_map(|a| a.id().map(str::to_owned)));
        position = out.position().map(str::to_owned);
        if position.is_none() || out.items().is_empty() {
            return Ok(ids);
        }
    }
}

fn outputs(env: &Env<'_>, c: &RestApi, id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (RestApi::ID.key.to_owned(), id.to_owned()),
        (RestApi::URL.key.to_owned(), stage_url(&env.aws.target, id, env.region(), &c.stage)),
        (RestApi::STAGE.key.to_owned(), c.stage.clone()),
    ])
}

/// Path → resource id of every resource of the API.
async fn resources(aws: &Aws, api: &str) -> Result<BTreeMap<String, (String, Vec<String>)>, AwsError> {
    let mut map = BTreeMap::new();
    let mut position = None;
    loop {
        let out = aws
            .apigateway
            .get_resources()
            .rest_api_id(api)
            .limit(500)
            .set_position(position)
            .send()
            .await
            .ctx("apigateway:GetResources")?;
        for r in out.items() {
            let methods: Vec<String> = r.resource_methods().map(|m| m.keys().cloned().collect()).unwrap_or_default();
            map.insert(r.path().unwrap_or_default().to_owned(), (r.id().unwrap_or_default().to_owned(), methods));
        }
        position = out.position().map(str::to_owned);
        if position.is_none() || out.items().is_empty() {
            return Ok(map);
        }
    }
}

async fn read(env: &Env<'_>, c: &RestApi, physical: Option<&str>) -> Result<Option<Live<Props>>, AwsError> {
    let aws = env.aws;
    let id = match physical {
        Some(id) => Some(id.to_owned()),
        None => super::the_one_named("REST API", &c.name, find(aws, &c.name).await?, "apigateway:GetRestApis")?,
    };
    let Some(id) = id else { return Ok(None) };
    let Some(api) = optional(aws.apigateway.get_rest_api().rest_api_id(&id).send().await.ctx("apigateway:GetRestApi"))?
    else {
        return Ok(None);
    };
    let endpoint =
        api.endpoint_configuration().and_then(|e| e.types().first()).map(|t| t.as_str().to_owned()).unwrap_or_default();

    let auths = aws.apigateway.get_authorizers().rest_api_id(&id).send().await.ctx("apigateway:GetAuthorizers")?;
    let authorizer = auths.items().iter().find(|a| a.name() == Some(AUTHORIZER_NAME));
    let authorizer_id = authorizer.and_then(|a| a.id()).unwrap_or_default().to_owned();
    let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
    let authorizer_props = authorizer.map(|a| Authorizer {
        name: text(a.name()),
        r#type: text(a.r#type().map(|t| t.as_str())),
        provider_arns: a.provider_arns().to_vec(),
        identity_source: text(a.identity_source()),
    });

    let mut methods = BTreeMap::new();
    for (path, (rid, verbs)) in resources(aws, &id).await? {
        for verb in verbs {
            let m = aws
                .apigateway
                .get_method()
                .rest_api_id(&id)
                .resource_id(&rid)
                .http_method(&verb)
                .send()
                .await
                .ctx("apigateway:GetMethod")?;
            let auth = m.authorization_type().unwrap_or("NONE").to_owned();
            let integ = m.method_integration();
            let itype = integ.and_then(|i| i.r#type()).map(|t| t.as_str().to_owned()).unwrap_or_default();
            let v = if verb == "OPTIONS" && auth == "NONE" {
                let response = integ.and_then(|i| i.integration_responses()).and_then(|r| r.get("200"));
                let headers = response
                    .and_then(|r| r.response_parameters())
                    .map(|p| unprefixed(p, "method.response.header."))
                    .unwrap_or_default();
                let template = response.and_then(|r| r.response_templates()).and_then(|t| t.get("application/json"));
                Method {
                    authorization: auth,
                    authorizer: None,
                    integration: itype,
                    uri: None,
                    headers: Some(headers),
                    template: template.cloned(),
                }
            } else {
                let auth_name = if m.authorizer_id() == Some(authorizer_id.as_str()) && !authorizer_id.is_empty() {
                    Some(AUTHORIZER_NAME.to_owned())
                } else {
                    m.authorizer_id().map(str::to_owned)
                };
                Method {
                    authorization: auth,
                    authorizer: auth_name,
                    integration: itype,
                    uri: integ.and_then(|i| i.uri()).map(str::to_owned),
                    headers: None,
                    template: None,
                }
            };
            methods.insert(format!("{verb} {path}"), v);
        }
    }

    let mut gateway_responses = BTreeMap::new();
    for t in GATEWAY_RESPONSE_TYPES {
        let r = optional(
            aws.apigateway
                .get_gateway_response()
                .rest_api_id(&id)
                .response_type(GatewayResponseType::from(t))
                .send()
                .await
                .ctx("apigateway:GetGatewayResponse"),
        )?;
        let headers =
            r.as_ref().and_then(|r| r.response_parameters()).map(|p| unprefixed(p, "gatewayresponse.header."));
        let template = r.as_ref().and_then(|r| r.response_templates()).and_then(|t| t.get("application/json"));
        let live = GatewayResponse {
            status: r.as_ref().and_then(|r| r.status_code()).map(str::to_owned),
            headers: headers.unwrap_or_default(),
            template: template.cloned(),
        };
        gateway_responses.insert(t.to_owned(), live);
    }

    let stage = optional(
        aws.apigateway.get_stage().rest_api_id(&id).stage_name(&c.stage).send().await.ctx("apigateway:GetStage"),
    )?;
    let mut deployed = None;
    if let Some(dep) = stage.as_ref().and_then(|s| s.deployment_id()) {
        let d = optional(
            aws.apigateway
                .get_deployment()
                .rest_api_id(&id)
                .deployment_id(dep)
                .send()
                .await
                .ctx("apigateway:GetDeployment"),
        )?;
        if let Some(h) = d.as_ref().and_then(|d| d.description()).and_then(|s| s.strip_prefix(DEPLOYMENT_PREFIX)) {
            deployed = Some(h.to_owned());
        }
    }
    let throttle = stage
        .as_ref()
        .and_then(|s| s.method_settings())
        .and_then(|m| m.get("*/*"))
        .map(|m| Throttle { rate: m.throttling_rate_limit(), burst: m.throttling_burst_limit() });
    let props = Props {
        definition: Definition {
            name: text(api.name()),
            endpoint,
            authorizer: authorizer_props,
            methods,
            gateway_responses,
            stage: stage.as_ref().and_then(|s| s.stage_name()).map(str::to_owned),
        },
        deployed_definition: deployed,
        throttle,
        tags: api.tags().map(tags_from).unwrap_or_default(),
    };
    Ok(Some(Live { outputs: outputs(env, c, &id), physical: id, props }))
}

/// `{"<prefix>Name": "value"}` → `{"Name": "value"}` (what API Gateway answers → what `Props` holds).
fn unprefixed(params: &std::collections::HashMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    params.iter().filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_owned(), v.clone()))).collect()
}

/// Brings the API to the desired definition (creating it when `live` is None), then deploys.
/// Every step reads first, so a re-run after an interruption converges. Returns the API's id.
async fn apply(env: &Env<'_>, c: &RestApi, want: &Props, live: Option<&Live<Props>>) -> Result<String, ResourceError> {
    let aws = env.aws;
    let id = match live {
        Some(l) => l.physical.clone(),
        None => {
            let create = async || {
                let out = aws
                    .apigateway
                    .create_rest_api()
                    .name(&c.name)
                    .description("Image editor API (deployed by provision)")
                    .endpoint_configuration(EndpointConfiguration::builder().types(EndpointType::Regional).build())
                    .set_tags(Some(env.tags().clone().into_iter().collect()))
                    .customize()
                    .config_override(aws_sdk_apigateway::config::Builder::default().retry_config(super::no_retries()))
                    .send()
                    .await
                    .ctx("apigateway:CreateRestApi")?;
                Ok(out.id().unwrap_or_default().to_owned())
            };
            super::create_once("REST API", &c.name, async || find(aws, &c.name).await, create).await?
        }
    };
    let have = live.map(|l| &l.props);
    let have_def = have.map(|h| &h.definition);

    // The tags, when an existing API's differ from the stack file's.
    if let Some(have) = have
        && have.tags != want.tags
    {
        let arn = format!("arn:aws:apigateway:{}::/restapis/{id}", env.region());
        let removed = super::removed_tags(&have.tags, &want.tags);
        if !removed.is_empty() {
            aws.apigateway
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .ctx("apigateway:UntagResource")?;
        }
        aws.apigateway
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(env.tags().clone().into_iter().collect()))
            .send()
            .await
            .ctx("apigateway:TagResource")?;
    }

    // The authorizer.
    let auths = aws.apigateway.get_authorizers().rest_api_id(&id).send().await.ctx("apigateway:GetAuthorizers")?;
    let pool_arn = env.outputs.get(c.pool, UserPool::ARN);
    let authorizer_id = match auths.items().iter().find(|a| a.name() == Some(AUTHORIZER_NAME)) {
        Some(a) => {
            let aid = a.id().unwrap_or_default().to_owned();
            if a.provider_arns() != [pool_arn.clone()] {
                aws.apigateway
                    .update_authorizer()
                    .rest_api_id(&id)
                    .authorizer_id(&aid)
                    .set_patch_operations(Some(provider_arn_patch(a.provider_arns(), &pool_arn)))
                    .send()
                    .await
                    .ctx("apigateway:UpdateAuthorizer")?;
            }
            aid
        }
        None => aws
            .apigateway
            .create_authorizer()
            .rest_api_id(&id)
            .name(AUTHORIZER_NAME)
            .r#type(AuthorizerType::CognitoUserPools)
            .provider_arns(&pool_arn)
            .identity_source(IDENTITY_SOURCE)
            .send()
            .await
            .ctx("apigateway:CreateAuthorizer")?
            .id()
            .unwrap_or_default()
            .to_owned(),
    };

    // Resources, parents first (BTreeSet order puts "/a" before "/a/b").
    let mut existing = resources(aws, &id).await?;
    for path in resource_paths(c) {
        if existing.contains_key(&path) {
            continue;
        }
        let (parent, part) = path.rsplit_once('/').unwrap_or(("", &path));
        let parent = if parent.is_empty() { "/" } else { parent };
        let parent_id = existing.get(parent).map(|x| x.0.clone()).unwrap_or_default();
        let r = aws
            .apigateway
            .create_resource()
            .rest_api_id(&id)
            .parent_id(parent_id)
            .path_part(part)
            .send()
            .await
            .ctx("apigateway:CreateResource")?;
        existing.insert(path.clone(), (r.id().unwrap_or_default().to_owned(), vec![]));
    }

    // Methods: create what is missing, replace what differs, remove what we did not declare.
    let want_methods = &want.definition.methods;
    let no_methods = BTreeMap::new();
    let have_methods = have_def.map_or(&no_methods, |d| &d.methods);
    for (key, spec) in want_methods {
        if have_methods.get(key) == Some(spec) {
            continue;
        }
        let (verb, path) = key.split_once(' ').unwrap_or(("GET", "/"));
        let rid = existing.get(path).map(|x| x.0.clone()).unwrap_or_default();
        if have_methods.contains_key(key) || existing.get(path).is_some_and(|x| x.1.iter().any(|m| m == verb)) {
            optional(
                aws.apigateway
                    .delete_method()
                    .rest_api_id(&id)
                    .resource_id(&rid)
                    .http_method(verb)
                    .send()
                    .await
                    .ctx("apigateway:DeleteMethod"),
            )?;
        }
        if verb == "OPTIONS" {
            put_preflight(aws, &id, &rid, spec).await?;
        } else {
            put_proxy_method(aws, &id, &rid, verb, &authorizer_id, spec.uri.as_deref().unwrap_or_default()).await?;
        }
    }
    for key in have_methods.keys().filter(|k| !want_methods.contains_key(*k)) {
        let (verb, path) = key.split_once(' ').unwrap_or(("GET", "/"));
        if let Some((rid, _)) = existing.get(path) {
            optional(
                aws.apigateway
                    .delete_method()
                    .rest_api_id(&id)
                    .resource_id(rid)
                    .http_method(verb)
                    .send()
                    .await
                    .ctx("apigateway:DeleteMethod"),
            )?;
        }
    }

    // CORS on the gateway's own errors (401 from the authorizer included).
    for (t, spec) in &want.definition.gateway_responses {
        if have_def.and_then(|d| d.gateway_responses.get(t)) == Some(spec) {
            continue;
        }
        aws.apigateway
            .put_gateway_response()
            .rest_api_id(&id)
            .response_type(GatewayResponseType::from(t.as_str()))
            .set_status_code(spec.status.clone())
            .set_response_parameters(Some(prefixed(&spec.headers, "gatewayresponse.header.")))
            .response_templates("application/json", spec.template.as_deref().unwrap_or_default())
            .send()
            .await
            .ctx("apigateway:PutGatewayResponse")?;
    }

    // A new deployment when the definition changed (not for stage settings alone).
    if have.and_then(|h| h.deployed_definition.as_ref()) != want.deployed_definition.as_ref() {
        aws.apigateway
            .create_deployment()
            .rest_api_id(&id)
            .stage_name(&c.stage)
            .description(format!("{DEPLOYMENT_PREFIX}{}", want.deployed_definition.as_deref().unwrap_or_default()))
            .send()
            .await
            .ctx("apigateway:CreateDeployment")?;
    }
    // The stage's throttling for every method (`*/*`), applied at once.
    if let Some(throttle) = &want.throttle
        && have.and_then(|h| h.throttle.as_ref()) != Some(throttle)
    {
        let op = |path: &str, value: String| PatchOperation::builder().op(Op::Replace).path(path).value(value).build();
        aws.apigateway
            .update_stage()
            .rest_api_id(&id)
            .stage_name(&c.stage)
            .patch_operations(op("/*/*/throttling/rateLimit", throttle.rate.to_string()))
            .patch_operations(op("/*/*/throttling/burstLimit", throttle.burst.to_string()))
            .send()
            .await
            .ctx("apigateway:UpdateStage")?;
    }
    Ok(id)
}

async fn put_proxy_method(
    aws: &Aws,
    api: &str,
    rid: &str,
    verb: &str,
    authorizer: &str,
    uri: &str,
) -> Result<(), AwsError> {
    aws.apigateway
        .put_method()
        .rest_api_id(api)
        .resource_id(rid)
        .http_method(verb)
        .authorization_type("COGNITO_USER_POOLS")
        .authorizer_id(authorizer)
        .send()
        .await
        .ctx("apigateway:PutMethod")?;
    aws.apigateway
        .put_integration()
        .rest_api_id(api)
        .resource_id(rid)
        .http_method(verb)
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(uri)
        .send()
        .await
        .ctx("apigateway:PutIntegration")?;
    Ok(())
}

/// The operations that make an authorizer's providerARNs exactly `[want]`: API Gateway takes
/// `add` and `remove` on `/providerARNs` with the ARN as the value, and the list may never be
/// empty, so the new ARN is added before the old ones are removed (PatchOperation in the API
/// Gateway reference; the AWS Terraform provider's authorizer does the same).
pub fn provider_arn_patch(have: &[String], want: &str) -> Vec<PatchOperation> {
    let op = |op: Op, arn: &str| PatchOperation::builder().op(op).path("/providerARNs").value(arn).build();
    let mut ops = Vec::new();
    if !have.iter().any(|a| a == want) {
        ops.push(op(Op::Add, want));
    }
    ops.extend(have.iter().filter(|a| *a != want).map(|a| op(Op::Remove, a)));
    ops
}

/// `{"Name": "value"}` → `{"<prefix>Name": "value"}`.
fn prefixed(headers: &BTreeMap<String, String>, prefix: &str) -> std::collections::HashMap<String, String> {
    headers.iter().map(|(k, v)| (format!("{prefix}{k}"), v.clone())).collect()
}

async fn put_preflight(aws: &Aws, api: &str, rid: &str, spec: &Method) -> Result<(), AwsError> {
    aws.apigateway
        .put_method()
        .rest_api_id(api)
        .resource_id(rid)
        .http_method("OPTIONS")
        .authorization_type("NONE")
        .send()
        .await
        .ctx("apigateway:PutMethod")?;
    aws.apigateway
        .put_method_response()
        .rest_api_id(api)
        .resource_id(rid)
        .http_method("OPTIONS")
        .status_code("200")
        .set_response_parameters(Some(
            spec.preflight_response_headers().iter().map(|h| (format!("method.response.header.{h}"), false)).collect(),
        ))
        .send()
        .await
        .ctx("apigateway:PutMethodResponse")?;
    aws.apigateway
        .put_integration()
        .rest_api_id(api)
        .resource_id(rid)
        .http_method("OPTIONS")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", "{\"statusCode\": 200}")
        .send()
        .await
        .ctx("apigateway:PutIntegration")?;
    aws.apigateway
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(rid)
        .http_method("OPTIONS")
        .status_code("200")
        .set_response_parameters(Some(prefixed(&spec.headers.clone().unwrap_or_default(), "method.response.header.")))
        .response_templates("application/json", spec.template.as_deref().unwrap_or_default())
        .send()
        .await
        .ctx("apigateway:PutIntegrationResponse")?;
    Ok(())
}

/// The checkov skip of an OPTIONS preflight method.
const OPEN_PREFLIGHT: &[(&str, &str)] = &[(
    "CKV_AWS_59",
    "Only the OPTIONS preflight methods are open (browsers send preflights without credentials); every other method uses the Cognito authorizer.",
)];

/// The stage's checkov skips, each with the reason that holds for this app.
const STAGE_SKIPS: &[(&str, &str)] = &[
    ("CKV_AWS_120", "Responses are per-user and per-request (edits); caching them would be wrong."),
    ("CKV_AWS_73", "X-Ray tracing is optional for a workshop; the function emits its own timing metrics."),
    (
        "CKV_AWS_76",
        "Access logging needs an account-wide CloudWatch role for API Gateway that this stack does not own.",
    ),
];

/// `/edits/{id}` → `EditsId`; `/` → `Root`.
fn path_id(path: &str) -> String {
    let id: String = path
        .split(['/', '{', '}', '-', '_'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    if id.is_empty() { "Root".to_owned() } else { id }
}

fn verb_id(verb: &str) -> String {
    let lower = verb.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// The REST API as CloudFormation resources: the API, its authorizer, resources, methods,
/// gateway responses, a deployment of this definition and the stage.
fn synth(c: &RestApi, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
    use crate::cfn_types::{
        apigateway_authorizer as authorizer, apigateway_deployment as deployment,
        apigateway_gateway_response as response, apigateway_method as method, apigateway_resource as resource,
        apigateway_rest_api as api, apigateway_stage as stage,
    };
    let def = &want.definition;
    t.add(
        id,
        &api::RestApi {
            name: val(&def.name),
            endpoint_configuration: Some(api::EndpointConfiguration {
                types: Some(vec![(&def.endpoint).into()]),
                ..Default::default()
            }),
            tags: Some(tag_list(t.tags())),
            ..Default::default()
        },
        json!({}),
    )?;
    let authorizer_id = format!("{id}Authorizer");
    if let Some(auth) = &def.authorizer {
        t.add(
            &authorizer_id,
            &authorizer::Authorizer {
                name: val(&auth.name),
                r#type: val(&auth.r#type),
                provider_arns: Some(auth.provider_arns.iter().map(Val::from).collect()),
                identity_source: val(&auth.identity_source),
                rest_api_id: Some(Val::reference(id)),
                ..Default::default()
            },
            json!({}),
        )?;
    }
    // Resources, parents first (paths are sorted, so a parent precedes its children).
    let resource_ref = |path: &str| -> Val<String> {
        if path == "/" {
            Val::get_att(id, "RootResourceId")
        } else {
            Val::reference(&format!("{id}Resource{}", path_id(path)))
        }
    };
    for path in resource_paths(c) {
        if path == "/" {
            continue;
        }
        let (parent, part) = path.rsplit_once('/').unwrap_or(("", &path));
        let parent = if parent.is_empty() { "/" } else { parent };
        t.add(
            &format!("{id}Resource{}", path_id(&path)),
            &resource::Resource {
                rest_api_id: Some(Val::reference(id)),
                parent_id: Some(resource_ref(parent)),
                path_part: val(part),
            },
            json!({}),
        )?;
    }
    let mut methods = Vec::new();
    for (key, m) in &def.methods {
        let (verb, path) = key.split_once(' ').unwrap_or((key, "/"));
        let mid = format!("{id}Method{}{}", verb_id(verb), path_id(path));
        let mut props = method::Method {
            rest_api_id: Some(Val::reference(id)),
            resource_id: Some(resource_ref(path)),
            http_method: val(verb),
            authorization_type: val(&m.authorization),
            ..Default::default()
        };
        if m.integration == "MOCK" {
            let headers = m.headers.clone().unwrap_or_default();
            props.integration = Some(method::Integration {
                r#type: val("MOCK"),
                request_templates: Some(BTreeMap::from([(
                    "application/json".to_owned(),
                    "{\"statusCode\": 200}".into(),
                )])),
                integration_responses: Some(vec![method::IntegrationResponse {
                    status_code: val("200"),
                    response_parameters: Some(
                        headers.iter().map(|(h, v)| (format!("method.response.header.{h}"), v.into())).collect(),
                    ),
                    response_templates: Some(
                        m.template.iter().map(|t| ("application/json".to_owned(), t.into())).collect(),
                    ),
                    ..Default::default()
                }]),
                ..Default::default()
            });
            props.method_responses = Some(vec![method::MethodResponse {
                status_code: val("200"),
                response_parameters: Some(
                    m.preflight_response_headers()
                        .iter()
                        .map(|h| (format!("method.response.header.{h}"), json!(false)))
                        .collect(),
                ),
                ..Default::default()
            }]);
        } else {
            props.authorizer_id = Some(Val::reference(&authorizer_id));
            props.integration = Some(method::Integration {
                r#type: val(&m.integration),
                integration_http_method: val("POST"),
                uri: m.uri.as_deref().map(Val::from),
                ..Default::default()
            });
        }
        // The preflights are open by design; every other method is behind the authorizer.
        let skip: &[(&str, &str)] = if m.authorization == "NONE" { OPEN_PREFLIGHT } else { &[] };
        t.add_with_skips(&mid, &props, json!({}), skip)?;
        methods.push(mid);
    }
    // Gateway responses, like methods, take effect only in a new deployment ("Changes to methods,
    // integrations or gateway responses take effect only in a new deployment"): the deployment
    // depends on them too, so an update that changes only them is deployed after they change.
    let mut deployed = methods.clone();
    for (kind, spec) in &def.gateway_responses {
        let rid = format!("{id}Response{}", path_id(&kind.to_ascii_lowercase().replace('_', "-")));
        deployed.push(rid.clone());
        t.add(
            &rid,
            &response::GatewayResponse {
                rest_api_id: Some(Val::reference(id)),
                response_type: val(kind),
                status_code: spec.status.as_ref().map(Val::from),
                response_parameters: Some(
                    spec.headers.iter().map(|(k, v)| (format!("gatewayresponse.header.{k}"), v.into())).collect(),
                ),
                response_templates: Some(
                    spec.template.iter().map(|t| ("application/json".to_owned(), t.into())).collect(),
                ),
            },
            json!({}),
        )?;
    }
    // A deployment per definition (its hash in the logical id, as the engine's marker), so any
    // change of the definition deploys anew.
    let hash = want.deployed_definition.as_deref().unwrap_or_default();
    let deployment = format!("{id}Deployment{}", &hash[..12.min(hash.len())]);
    t.add(
        &deployment,
        &deployment::Deployment {
            rest_api_id: Some(Val::reference(id)),
            description: val(format!("definition sha256:{hash}")),
            ..Default::default()
        },
        json!({"DependsOn": deployed}),
    )?;
    t.add_with_skips(
        &format!("{id}Stage"),
        &stage::Stage {
            rest_api_id: Some(Val::reference(id)),
            deployment_id: Some(Val::reference(&deployment)),
            stage_name: def.stage.as_ref().map(Val::from),
            method_settings: Some(
                want.throttle
                    .iter()
                    .map(|throttle| stage::MethodSetting {
                        resource_path: val("/*"),
                        http_method: val("*"),
                        throttling_rate_limit: val(throttle.rate),
                        throttling_burst_limit: val(throttle.burst),
                        ..Default::default()
                    })
                    .collect(),
            ),
            tags: Some(tag_list(t.tags())),
            ..Default::default()
        },
        json!({}),
        STAGE_SKIPS,
    )
}

/// Deletes the REST API (stages and deployments go with it). Missing = done. moto answers 500
/// for a missing id on delete, so look first.
pub async fn delete(aws: &Aws, id: &str) -> Result<(), AwsError> {
    if optional(aws.apigateway.get_rest_api().rest_api_id(id).send().await.ctx("apigateway:GetRestApi"))?.is_none() {
        return Ok(());
    }
    optional(aws.apigateway.delete_rest_api().rest_api_id(id).send().await.ctx("apigateway:DeleteRestApi"))?;
    Ok(())
}

/// Methods other than OPTIONS that anyone can call without a token: the check behind
/// `provision status` and the tests.
pub fn unauthenticated_methods(live: &Live<Props>) -> Vec<String> {
    live.props
        .definition
        .methods
        .iter()
        .filter(|(k, m)| !k.starts_with("OPTIONS ") && m.authorization != AUTHORIZATION)
        .map(|(k, _)| k.clone())
        .collect()
}

/// Its place in `down`: right after the app, so no request reaches the function any more.
impl Step for RestApi {
    const TITLE: &'static str = "API Gateway REST API";
    const WHY: &'static str =
        "no request can reach the function any more; stages, deployments and the authorizer go with it";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::rest_api(stack)]
    }

    async fn find(aws: &Aws, stack: &str, state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        let found = find(aws, &Names::rest_api(stack)).await?;
        let tags = async |id: &str| -> Result<Option<BTreeMap<String, String>>, AwsError> {
            Ok(optional(aws.apigateway.get_rest_api().rest_api_id(id).send().await.ctx("apigateway:GetRestApi"))?
                .map(|a| tag_map(a.tags())))
        };
        // moto cannot tag a REST API after creation; without a state file an untagged API with
        // the stack's name is taken as the stack's.
        owned(stack, recorded(state, EDITOR.api.id), found, state.is_none(), tags).await
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        delete(aws, id).await
    }
}
