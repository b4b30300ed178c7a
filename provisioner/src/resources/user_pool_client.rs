//! The SPA's app client of the user pool: no secret; SRP sign-in and refresh tokens only, on AWS
//! and on the local cloud alike.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, PreventUserExistenceErrorTypes};
use serde::Serialize;
use serde_json::json;

use super::user_pool::{UserPool, list_clients};
use super::{Env, Live, Resource, ResourceError};
use crate::aws::{AwsError, Ctx, optional};
use crate::cfn_types::cognito_user_pool_client as cfn;
use crate::stack::{Id, Out, Ref};
use crate::synth::{CfnResource, SynthError, Template, val};

#[derive(Debug, Clone)]
pub struct UserPoolClient {
    pub name: String,
    pub pool: Ref<UserPool>,
}

/// Token lifetimes (ID and access tokens in minutes, the refresh token in days).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenValidity {
    pub id_minutes: i32,
    pub access_minutes: i32,
    pub refresh_days: i32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    pub secret: bool,
    /// Sorted, as the flows are compared.
    pub auth_flows: Vec<String>,
    pub prevent_user_existence_errors: String,
    pub token_validity: TokenValidity,
}

/// The app client's sign-in flows, on AWS and on the local cloud alike: SRP (the password never
/// leaves the machine; the web app and `provision token` use it) and the refresh token, sorted as
/// DescribeUserPoolClient is read back.
pub fn auth_flows() -> Vec<ExplicitAuthFlowsType> {
    vec![ExplicitAuthFlowsType::AllowRefreshTokenAuth, ExplicitAuthFlowsType::AllowUserSrpAuth]
}

/// What other constructs (and `synth`) may read of a UserPoolClient.
impl UserPoolClient {
    pub const ID: Out<Self> = Out::reference("id");
}

impl Resource for UserPoolClient {
    const KIND: &'static str = cfn::UserPoolClient::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::ID];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![self.pool.id]
    }

    fn desired(&self, _env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props {
            name: self.name.clone(),
            secret: false,
            auth_flows: auth_flows().iter().map(|f| f.as_str().to_owned()).collect(),
            prevent_user_existence_errors: PreventUserExistenceErrorTypes::Enabled.as_str().to_owned(),
            token_validity: TokenValidity { id_minutes: 60, access_minutes: 60, refresh_days: 30 },
        })
    }

    async fn read(&self, env: &Env<'_>, physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env, self, physical).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        let pool = env.outputs.get(self.pool, UserPool::ID);
        let out = env
            .aws
            .cognito
            .create_user_pool_client()
            .user_pool_id(&pool)
            .client_name(&want.name)
            .generate_secret(want.secret)
            .set_explicit_auth_flows(Some(flows(want)))
            .prevent_user_existence_errors(PreventUserExistenceErrorTypes::from(
                want.prevent_user_existence_errors.as_str(),
            ))
            .id_token_validity(want.token_validity.id_minutes)
            .access_token_validity(want.token_validity.access_minutes)
            .refresh_token_validity(want.token_validity.refresh_days)
            .token_validity_units(validity_units())
            .send()
            .await
            .ctx("cognito-idp:CreateUserPoolClient")?;
        Ok(out.user_pool_client().and_then(|x| x.client_id()).unwrap_or_default().to_owned())
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        let pool = env.outputs.get(self.pool, UserPool::ID);
        env.aws
            .cognito
            .update_user_pool_client()
            .user_pool_id(&pool)
            .client_id(&live.physical)
            .client_name(&want.name)
            .set_explicit_auth_flows(Some(flows(want)))
            .prevent_user_existence_errors(PreventUserExistenceErrorTypes::from(
                want.prevent_user_existence_errors.as_str(),
            ))
            .id_token_validity(want.token_validity.id_minutes)
            .access_token_validity(want.token_validity.access_minutes)
            .refresh_token_validity(want.token_validity.refresh_days)
            .token_validity_units(validity_units())
            .send()
            .await
            .ctx("cognito-idp:UpdateUserPoolClient")?;
        Ok(())
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let v = &want.token_validity;
        t.add(
            id,
            &cfn::UserPoolClient {
                client_name: val(&want.name),
                user_pool_id: val(format!("${{{}.id}}", self.pool.id)),
                generate_secret: val(want.secret),
                explicit_auth_flows: Some(want.auth_flows.iter().map(Into::into).collect()),
                prevent_user_existence_errors: val(&want.prevent_user_existence_errors),
                id_token_validity: val(v.id_minutes),
                access_token_validity: val(v.access_minutes),
                refresh_token_validity: val(v.refresh_days),
                token_validity_units: Some(cfn::TokenValidityUnits {
                    id_token: val("minutes"),
                    access_token: val("minutes"),
                    refresh_token: val("days"),
                }),
                ..Default::default()
            },
            json!({}),
        )
    }
}

async fn read(env: &Env<'_>, c: &UserPoolClient, physical: Option<&str>) -> Result<Option<Live<Props>>, AwsError> {
    let Some(pool) = env.outputs.known(c.pool, UserPool::ID) else { return Ok(None) };
    let id = match physical {
        Some(id) => Some(id.to_owned()),
        None => list_clients(env.aws, pool).await?.into_iter().find(|(_, n)| n == &c.name).map(|x| x.0),
    };
    let Some(id) = id else { return Ok(None) };
    let Some(out) = optional(
        env.aws
            .cognito
            .describe_user_pool_client()
            .user_pool_id(pool)
            .client_id(&id)
            .send()
            .await
            .ctx("cognito-idp:DescribeUserPoolClient"),
    )?
    else {
        return Ok(None);
    };
    let Some(cl) = out.user_pool_client() else { return Ok(None) };
    let mut flows: Vec<String> = cl.explicit_auth_flows().iter().map(|f| f.as_str().to_owned()).collect();
    flows.sort();
    let props = Props {
        name: cl.client_name().unwrap_or_default().to_owned(),
        secret: cl.client_secret().is_some(),
        auth_flows: flows,
        prevent_user_existence_errors: cl
            .prevent_user_existence_errors()
            .map_or(PreventUserExistenceErrorTypes::Legacy.as_str(), |p| p.as_str())
            .to_owned(),
        // Unset lifetimes are Cognito's defaults (an hour; 30 days).
        token_validity: TokenValidity {
            id_minutes: cl.id_token_validity().filter(|v| *v > 0).unwrap_or(60),
            access_minutes: cl.access_token_validity().filter(|v| *v > 0).unwrap_or(60),
            refresh_days: if cl.refresh_token_validity() > 0 { cl.refresh_token_validity() } else { 30 },
        },
    };
    Ok(Some(Live { outputs: BTreeMap::from([(UserPoolClient::ID.key.to_owned(), id.clone())]), physical: id, props }))
}

fn flows(want: &Props) -> Vec<ExplicitAuthFlowsType> {
    want.auth_flows.iter().map(|f| ExplicitAuthFlowsType::from(f.as_str())).collect()
}

fn validity_units() -> aws_sdk_cognitoidentityprovider::types::TokenValidityUnitsType {
    use aws_sdk_cognitoidentityprovider::types::{TimeUnitsType, TokenValidityUnitsType};
    TokenValidityUnitsType::builder()
        .id_token(TimeUnitsType::Minutes)
        .access_token(TimeUnitsType::Minutes)
        .refresh_token(TimeUnitsType::Days)
        .build()
}
