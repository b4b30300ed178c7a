//! Cognito: the user pool (e-mail sign-in) and the SPA's app client (no secret).

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, DeletionProtectionType, ExplicitAuthFlowsType, LambdaConfigType, PasswordPolicyType,
    PreventUserExistenceErrorTypes, UserPoolPolicyType, UsernameAttributeType, UsernameConfigurationType,
    VerifiedAttributeType,
};
use serde_json::{Value, json};

use super::{Env, Live, ResourceError, tags_value};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::stack::{Names, UserPool, UserPoolClient};

/// The app client's sign-in flows: SRP and refresh, plus the password flow on the local cloud only
/// (its emulator cannot verify SRP), sorted as DescribeUserPoolClient is read back.
pub fn auth_flows(c: &UserPoolClient) -> Vec<&'static str> {
    if c.password_auth {
        vec!["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"]
    } else {
        vec!["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    }
}

pub fn pool_desired(c: &UserPool, env: &Env<'_>) -> Value {
    json!({
        "name": c.name,
        "sign_in": "email",
        // Alice@Example.com and alice@example.com are one user. Set at creation only: AWS cannot
        // change it on an existing pool (UsernameConfiguration is not in UpdateUserPool).
        "case_sensitive_user_names": false,
        "auto_verified": ["email"],
        "self_sign_up": c.self_sign_up,
        "password": {
            "min_length": c.password_min_length,
            "require_lowercase": true, "require_uppercase": true,
            "require_numbers": true, "require_symbols": false,
        },
        "deletion_protection": "INACTIVE",
        "pre_sign_up": c.pre_sign_up.map(|f| env.outputs.get(f.id, "arn")),
        "tags": tags_value(env.tags()),
    })
}

fn pool_outputs(id: &str, arn: &str, region: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("id".to_owned(), id.to_owned()),
        ("arn".to_owned(), arn.to_owned()),
        ("issuer".to_owned(), format!("https://cognito-idp.{region}.amazonaws.com/{id}")),
    ])
}

/// Every pool of the account/region with this name (pool names are not unique in Cognito).
pub async fn find_pools(aws: &Aws, name: &str) -> Result<Vec<String>, AwsError> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .cognito
            .list_user_pools()
            .max_results(60)
            .set_next_token(token)
            .send()
            .await
            .ctx("cognito-idp:ListUserPools")?;
        ids.extend(
            out.user_pools().iter().filter(|p| p.name() == Some(name)).filter_map(|p| p.id().map(str::to_owned)),
        );
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(ids);
        }
    }
}

pub async fn pool_read(aws: &Aws, name: &str, physical: Option<&str>) -> Result<Option<Live>, AwsError> {
    let id = match physical {
        Some(id) => Some(id.to_owned()),
        None => find_pools(aws, name).await?.into_iter().next(),
    };
    let Some(id) = id else { return Ok(None) };
    let Some(out) =
        optional(aws.cognito.describe_user_pool().user_pool_id(&id).send().await.ctx("cognito-idp:DescribeUserPool"))?
    else {
        return Ok(None);
    };
    let Some(p) = out.user_pool() else { return Ok(None) };
    let pw = p.policies().and_then(|x| x.password_policy());
    let props = json!({
        "name": p.name(),
        "sign_in": if p.username_attributes().contains(&UsernameAttributeType::Email) { "email" } else { "username" },
        // Pools created without the setting are case-sensitive (the API's default).
        "case_sensitive_user_names": p.username_configuration().map(|u| u.case_sensitive()).unwrap_or(true),
        "auto_verified": p.auto_verified_attributes().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "self_sign_up": !p.admin_create_user_config().is_some_and(|c| c.allow_admin_create_user_only()),
        "password": {
            "min_length": pw.and_then(|x| x.minimum_length()),
            "require_lowercase": pw.is_some_and(|x| x.require_lowercase()),
            "require_uppercase": pw.is_some_and(|x| x.require_uppercase()),
            "require_numbers": pw.is_some_and(|x| x.require_numbers()),
            "require_symbols": pw.is_some_and(|x| x.require_symbols()),
        },
        "deletion_protection": p.deletion_protection().map(|d| d.as_str()).unwrap_or("INACTIVE"),
        "pre_sign_up": p.lambda_config().and_then(|l| l.pre_sign_up()),
        "tags": p.user_pool_tags().map(|t| tags_value(&t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())).unwrap_or(json!({})),
    });
    let arn = p.arn().map(str::to_owned).unwrap_or_default();
    Ok(Some(Live { outputs: pool_outputs(&id, &arn, &aws.region), physical: id, props }))
}

fn password_policy(c: &UserPool) -> PasswordPolicyType {
    PasswordPolicyType::builder()
        .minimum_length(c.password_min_length)
        .require_lowercase(true)
        .require_uppercase(true)
        .require_numbers(true)
        .require_symbols(false)
        .build()
}

fn admin_create(c: &UserPool) -> AdminCreateUserConfigType {
    AdminCreateUserConfigType::builder().allow_admin_create_user_only(!c.self_sign_up).build()
}

/// The pool's triggers: the pre sign-up function when sign-ups are vetted, none otherwise
/// (UpdateUserPool without LambdaConfig removes every trigger).
fn triggers(desired: &Value) -> Option<LambdaConfigType> {
    desired["pre_sign_up"].as_str().map(|arn| LambdaConfigType::builder().pre_sign_up(arn).build())
}

fn case_insensitive() -> Result<UsernameConfigurationType, ResourceError> {
    UsernameConfigurationType::builder()
        .case_sensitive(false)
        .build()
        .map_err(|e| ResourceError::Refused(format!("user name configuration: {e}")))
}

pub async fn pool_create(env: &Env<'_>, c: &UserPool, desired: &Value) -> Result<Live, ResourceError> {
    let out = env
        .aws
        .cognito
        .create_user_pool()
        .pool_name(&c.name)
        .username_attributes(UsernameAttributeType::Email)
        .username_configuration(case_insensitive()?)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .policies(UserPoolPolicyType::builder().password_policy(password_policy(c)).build())
        .admin_create_user_config(admin_create(c))
        .set_lambda_config(triggers(desired))
        .deletion_protection(DeletionProtectionType::Inactive)
        .set_user_pool_tags(Some(env.tags().clone().into_iter().collect()))
        .send()
        .await
        .ctx("cognito-idp:CreateUserPool")?;
    let id = out.user_pool().and_then(|p| p.id()).unwrap_or_default().to_owned();
    pool_read(env.aws, &c.name, Some(&id))
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("user pool {id} vanished right after it was created")))
}

pub async fn pool_update(env: &Env<'_>, c: &UserPool, live: &Live, desired: &Value) -> Result<Live, ResourceError> {
    if live.props["case_sensitive_user_names"] != desired["case_sensitive_user_names"] {
        tracing::warn!(
            "user pool {} was created with case-sensitive user names; AWS cannot change that on an existing \
             pool (a new pool would lose its users), so it stays as it is",
            live.physical
        );
    }
    // UpdateUserPool resets what it is not given: send every setting we manage (its
    // UserPoolTags replace the pool's tags, so a removed tag goes with it).
    env.aws
        .cognito
        .update_user_pool()
        .user_pool_id(&live.physical)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .policies(UserPoolPolicyType::builder().password_policy(password_policy(c)).build())
        .admin_create_user_config(admin_create(c))
        .set_lambda_config(triggers(desired))
        .deletion_protection(DeletionProtectionType::Inactive)
        .set_user_pool_tags(Some(env.tags().clone().into_iter().collect()))
        .send()
        .await
        .ctx("cognito-idp:UpdateUserPool")?;
    // Sign-ups no longer vetted: Cognito no longer needs to invoke the function, so its
    // permission goes with the trigger (the stack no longer declares it).
    if let (None, Some(function)) = (desired["pre_sign_up"].as_str(), live.props["pre_sign_up"].as_str()) {
        optional(
            env.aws
                .lambda
                .remove_permission()
                .function_name(function)
                .statement_id(Names::sign_up_permission(&env.stack.config.name))
                .send()
                .await
                .ctx("lambda:RemovePermission"),
        )?;
    }
    pool_read(env.aws, &c.name, Some(&live.physical))
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("user pool {} vanished during the update", live.physical)))
}

/// Deletes the pool's domain and clients, then the pool. Missing = done.
pub async fn pool_delete(aws: &Aws, id: &str) -> Result<(), AwsError> {
    let Some(out) =
        optional(aws.cognito.describe_user_pool().user_pool_id(id).send().await.ctx("cognito-idp:DescribeUserPool"))?
    else {
        return Ok(());
    };
    if let Some(domain) = out.user_pool().and_then(|p| p.domain()) {
        optional(
            aws.cognito
                .delete_user_pool_domain()
                .user_pool_id(id)
                .domain(domain)
                .send()
                .await
                .ctx("cognito-idp:DeleteUserPoolDomain"),
        )?;
    }
    for client in list_clients(aws, id).await? {
        optional(
            aws.cognito
                .delete_user_pool_client()
                .user_pool_id(id)
                .client_id(&client.0)
                .send()
                .await
                .ctx("cognito-idp:DeleteUserPoolClient"),
        )?;
    }
    optional(aws.cognito.delete_user_pool().user_pool_id(id).send().await.ctx("cognito-idp:DeleteUserPool"))?;
    Ok(())
}

/// (client id, client name) of every client of the pool.
async fn list_clients(aws: &Aws, pool: &str) -> Result<Vec<(String, String)>, AwsError> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let Some(out) = optional(
            aws.cognito
                .list_user_pool_clients()
                .user_pool_id(pool)
                .max_results(60)
                .set_next_token(token)
                .send()
                .await
                .ctx("cognito-idp:ListUserPoolClients"),
        )?
        else {
            return Ok(all);
        };
        all.extend(
            out.user_pool_clients().iter().map(|c| {
                (c.client_id().unwrap_or_default().to_owned(), c.client_name().unwrap_or_default().to_owned())
            }),
        );
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(all);
        }
    }
}

pub fn client_desired(c: &UserPoolClient) -> Value {
    json!({
        "name": c.name,
        "secret": false,
        "auth_flows": auth_flows(c),
        "prevent_user_existence_errors": "ENABLED",
        "token_validity": {"id_minutes": 60, "access_minutes": 60, "refresh_days": 30},
    })
}

pub async fn client_read(env: &Env<'_>, c: &UserPoolClient, physical: Option<&str>) -> Result<Option<Live>, AwsError> {
    let Some(pool) = env.outputs.known(c.pool.id, "id") else { return Ok(None) };
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
    let mut flows: Vec<&str> = cl.explicit_auth_flows().iter().map(|f| f.as_str()).collect();
    flows.sort();
    let props = json!({
        "name": cl.client_name(),
        "secret": cl.client_secret().is_some(),
        "auth_flows": flows,
        "prevent_user_existence_errors": cl.prevent_user_existence_errors().map(|p| p.as_str()).unwrap_or("LEGACY"),
        "token_validity": {
            "id_minutes": cl.id_token_validity().filter(|v| *v > 0).unwrap_or(60),
            "access_minutes": cl.access_token_validity().filter(|v| *v > 0).unwrap_or(60),
            "refresh_days": if cl.refresh_token_validity() > 0 { cl.refresh_token_validity() } else { 30 },
        },
    });
    Ok(Some(Live { outputs: BTreeMap::from([("id".to_owned(), id.clone())]), physical: id, props }))
}

fn flows(c: &UserPoolClient) -> Vec<ExplicitAuthFlowsType> {
    auth_flows(c).into_iter().map(ExplicitAuthFlowsType::from).collect()
}

fn validity_units() -> aws_sdk_cognitoidentityprovider::types::TokenValidityUnitsType {
    use aws_sdk_cognitoidentityprovider::types::{TimeUnitsType, TokenValidityUnitsType};
    TokenValidityUnitsType::builder()
        .id_token(TimeUnitsType::Minutes)
        .access_token(TimeUnitsType::Minutes)
        .refresh_token(TimeUnitsType::Days)
        .build()
}

pub async fn client_create(env: &Env<'_>, c: &UserPoolClient, _desired: &Value) -> Result<Live, ResourceError> {
    let pool = env.outputs.get(c.pool.id, "id");
    let out = env
        .aws
        .cognito
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name(&c.name)
        .generate_secret(false)
        .set_explicit_auth_flows(Some(flows(c)))
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .id_token_validity(60)
        .access_token_validity(60)
        .refresh_token_validity(30)
        .token_validity_units(validity_units())
        .send()
        .await
        .ctx("cognito-idp:CreateUserPoolClient")?;
    let id = out.user_pool_client().and_then(|x| x.client_id()).unwrap_or_default().to_owned();
    client_read(env, c, Some(&id))
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("app client {id} vanished right after it was created")))
}

pub async fn client_update(
    env: &Env<'_>,
    c: &UserPoolClient,
    live: &Live,
    _desired: &Value,
) -> Result<Live, ResourceError> {
    let pool = env.outputs.get(c.pool.id, "id");
    env.aws
        .cognito
        .update_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&live.physical)
        .client_name(&c.name)
        .set_explicit_auth_flows(Some(flows(c)))
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .id_token_validity(60)
        .access_token_validity(60)
        .refresh_token_validity(30)
        .token_validity_units(validity_units())
        .send()
        .await
        .ctx("cognito-idp:UpdateUserPoolClient")?;
    client_read(env, c, Some(&live.physical))
        .await?
        .ok_or_else(|| ResourceError::Refused(format!("app client {} vanished during the update", live.physical)))
}
