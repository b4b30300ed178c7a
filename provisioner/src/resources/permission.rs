//! The function's resource-based policy statements: who may invoke it (exactly one API, or one
//! user pool's triggers).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::function::Function;
use super::rest_api::RestApi;
use super::user_pool::UserPool;
use super::{Env, Live, Resource, ResourceError};
use crate::aws::{AwsError, Ctx, optional};
use crate::cfn_types::lambda_permission as cfn;
use crate::stack::{Id, Out, Ref};
use crate::synth::{CfnResource, SynthError, Template, val};

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

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub statement_id: String,
    pub action: String,
    pub principal: String,
    pub source_arn: String,
}

impl Resource for Permission {
    const KIND: &'static str = cfn::Permission::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[];

    fn name(&self) -> String {
        self.statement_id.clone()
    }

    fn deps(&self) -> Vec<Id> {
        let invoker = match self.invoker {
            Invoker::Api(r) => r.id,
            Invoker::UserPool(r) => r.id,
        };
        vec![self.function.id, invoker]
    }

    /// The service that invokes, and exactly which of its resources may (Lambda's resource-based
    /// policy; Cognito's triggers need `cognito-idp.amazonaws.com` with the pool's ARN, Cognito
    /// Developer Guide "Customizing user pool workflows with Lambda triggers").
    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        let (principal, source_arn) = match self.invoker {
            Invoker::Api(api) => ("apigateway.amazonaws.com", source_arn(env, &env.outputs.get(api, RestApi::ID))),
            Invoker::UserPool(pool) => ("cognito-idp.amazonaws.com", env.outputs.get(pool, UserPool::ARN)),
        };
        Ok(Props {
            statement_id: self.statement_id.clone(),
            action: "lambda:InvokeFunction".to_owned(),
            principal: principal.to_owned(),
            source_arn,
        })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env, self).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        env.aws
            .lambda
            .add_permission()
            .function_name(env.outputs.get(self.function, Function::NAME))
            .statement_id(&want.statement_id)
            .action(&want.action)
            .principal(&want.principal)
            .source_arn(&want.source_arn)
            .send()
            .await
            .ctx("lambda:AddPermission")?;
        Ok(want.statement_id.clone())
    }

    /// A statement cannot be changed in place: it is removed and added again.
    async fn update(&self, env: &Env<'_>, _live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        optional(
            env.aws
                .lambda
                .remove_permission()
                .function_name(env.outputs.get(self.function, Function::NAME))
                .statement_id(&want.statement_id)
                .send()
                .await
                .ctx("lambda:RemovePermission"),
        )?;
        self.create(env, want).await.map(drop)
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        t.add(
            id,
            &cfn::Permission {
                action: val(&want.action),
                function_name: val(format!("${{{}.arn}}", self.function.id)),
                principal: val(&want.principal),
                source_arn: val(&want.source_arn),
                ..Default::default()
            },
            json!({}),
        )
    }
}

/// Only this API, any stage/method/path of it, may invoke the function.
pub fn source_arn(env: &Env<'_>, api_id: &str) -> String {
    format!("arn:aws:execute-api:{}:{}:{api_id}/*/*/*", env.region(), env.account)
}

async fn read(env: &Env<'_>, c: &Permission) -> Result<Option<Live<Props>>, AwsError> {
    let Some(function) = env.outputs.known(c.function, Function::NAME) else { return Ok(None) };
    let Some(out) = optional(env.aws.lambda.get_policy().function_name(function).send().await.ctx("lambda:GetPolicy"))?
    else {
        return Ok(None);
    };
    let policy: Value = serde_json::from_str(out.policy().unwrap_or("{}")).unwrap_or(Value::Null);
    let Some(st) = policy["Statement"].as_array().and_then(|s| s.iter().find(|s| s["Sid"] == c.statement_id.as_str()))
    else {
        return Ok(None);
    };
    let principal = st["Principal"]["Service"].as_str().or(st["Principal"].as_str()).unwrap_or_default();
    let source = st["Condition"]["ArnLike"]["AWS:SourceArn"].as_str().unwrap_or_default();
    let props = Props {
        statement_id: c.statement_id.clone(),
        action: st["Action"].as_str().unwrap_or_default().to_owned(),
        principal: principal.to_owned(),
        source_arn: source.to_owned(),
    };
    Ok(Some(Live { physical: c.statement_id.clone(), props, outputs: BTreeMap::new() }))
}
