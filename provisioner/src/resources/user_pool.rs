//! The Cognito user pool: e-mail sign-in, the password policy, who may sign up (and, when
//! sign-ups are vetted by e-mail domain, the function as its PreSignUp trigger).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, DeletionProtectionType, LambdaConfigType, MessageTemplateType, PasswordPolicyType,
    UserPoolPolicyType, UsernameAttributeType, UsernameConfigurationType, VerifiedAttributeType,
};
use serde::Serialize;

use super::amplify_app::AmplifyApp;
use super::function::Function;
use super::{Env, Live, Resource, ResourceError, Tags, tags_from};
use crate::aws::{Aws, AwsError, Ctx, optional};
use crate::cfn_types::cognito_user_pool as cfn;
use crate::stack::{EDITOR, Id, Names, Out, Ref};
use crate::state::StateFile;
use crate::synth::{CfnResource, SynthError, Template, Val, val};
use crate::teardown::{Step, owned, recorded, tag_map};

#[derive(Debug, Clone)]
pub struct UserPool {
    pub name: String,
    pub self_sign_up: bool,
    pub password_min_length: i32,
    /// The function that vets self sign-ups (`auth.allowed_email_domains`), as the pool's
    /// PreSignUp trigger.
    pub pre_sign_up: Option<Ref<Function>>,
    /// What the invitation e-mail (`provision users add`) calls the event.
    pub workshop: String,
    /// The web app, whose address the invitation carries.
    pub app: Ref<AmplifyApp>,
}

/// The invitation e-mail Cognito sends on AdminCreateUser: the workshop, the app's address, the
/// user name and the temporary password. Cognito fills in `{username}` and `{####}`, which the
/// message must contain (AdminCreateUserConfigType.InviteMessageTemplate, Cognito API Reference).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Invitation {
    pub subject: String,
    pub message: String,
}

impl Invitation {
    pub fn new(workshop: &str, app_url: &str) -> Invitation {
        Invitation {
            subject: format!("Your invitation to {workshop}"),
            message: format!(
                "You are invited to {workshop}.<br><br>\
                 Open <a href=\"{app_url}\">{app_url}</a> and sign in with<br>\
                 e-mail: <b>{{username}}</b><br>\
                 temporary password: <b>{{####}}</b><br><br>\
                 The app then asks you to choose your own password. The temporary password works for 7 days; \
                 if it has expired, ask your host to send the invitation again."
            ),
        }
    }
}
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PasswordPolicy {
    pub min_length: Option<i32>,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    /// `email` (people sign in with their address) or `username`.
    pub sign_in: String,
    /// Alice@Example.com and alice@example.com are one user. Set at creation only: AWS cannot
    /// change it on an existing pool (UsernameConfiguration is not in UpdateUserPool).
    pub case_sensitive_user_names: bool,
    pub auto_verified: Vec<String>,
    pub self_sign_up: bool,
    pub password: PasswordPolicy,
    pub deletion_protection: String,
    /// The trigger function's ARN.
    pub pre_sign_up: Option<String>,
    pub invitation: Option<Invitation>,
    pub tags: Tags,
}

/// What other constructs (and `synth`) may read of a UserPool.
impl UserPool {
    pub const ID: Out<Self> = Out::reference("id");
    pub const ARN: Out<Self> = Out::attribute("arn", "Arn");
    /// The token issuer (`https://cognito-idp.<region>.amazonaws.com/<id>`).
    pub const ISSUER: Out<Self> = Out::engine_only("issuer");
}

impl Resource for UserPool {
    const KIND: &'static str = cfn::UserPool::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::ID, Self::ARN, Self::ISSUER];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        self.pre_sign_up.iter().map(|f| f.id).chain([self.app.id]).collect()
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props {
            name: self.name.clone(),
            sign_in: "email".to_owned(),
            case_sensitive_user_names: false,
            auto_verified: vec![VerifiedAttributeType::Email.as_str().to_owned()],
            self_sign_up: self.self_sign_up,
            password: PasswordPolicy {
                min_length: Some(self.password_min_length),
                require_lowercase: true,
                require_uppercase: true,
                require_numbers: true,
                require_symbols: false,
            },
            deletion_protection: DeletionProtectionType::Inactive.as_str().to_owned(),
            pre_sign_up: self.pre_sign_up.map(|f| env.outputs.get(f, Function::ARN)),
            invitation: Some(Invitation::new(&self.workshop, &env.outputs.get(self.app, AmplifyApp::ORIGIN))),
            tags: env.tags().clone(),
        })
    }

    async fn read(&self, env: &Env<'_>, physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env.aws, &self.name, physical).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        create(env, self, want).await
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        update(env, live, want).await
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        let p = &want.password;
        let props = cfn::UserPool {
            user_pool_name: val(&want.name),
            username_attributes: Some(vec![(&want.sign_in).into()]),
            username_configuration: Some(cfn::UsernameConfiguration {
                case_sensitive: val(want.case_sensitive_user_names),
            }),
            auto_verified_attributes: Some(want.auto_verified.iter().map(Into::into).collect()),
            admin_create_user_config: Some(cfn::AdminCreateUserConfig {
                allow_admin_create_user_only: val(!want.self_sign_up),
                invite_message_template: want.invitation.as_ref().map(|i| cfn::InviteMessageTemplate {
                    email_subject: val(&i.subject),
                    email_message: val(&i.message),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            policies: Some(cfn::Policies {
                password_policy: Some(cfn::PasswordPolicy {
                    minimum_length: p.min_length.map(Val::from),
                    require_lowercase: val(p.require_lowercase),
                    require_uppercase: val(p.require_uppercase),
                    require_numbers: val(p.require_numbers),
                    require_symbols: val(p.require_symbols),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            deletion_protection: val(&want.deletion_protection),
            lambda_config: want
                .pre_sign_up
                .as_ref()
                .map(|arn| cfn::LambdaConfig { pre_sign_up: val(arn), ..Default::default() }),
            user_pool_tags: Some(t.tags().iter().map(|(k, v)| (k.clone(), v.into())).collect()),
            ..Default::default()
        };
        t.add(id, &props, Template::delete_with_stack())
    }
}

fn pool_outputs(id: &str, arn: &str, region: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (UserPool::ID.key.to_owned(), id.to_owned()),
        (UserPool::ARN.key.to_owned(), arn.to_owned()),
        (UserPool::ISSUER.key.to_owned(), format!("https://cognito-idp.{region}.amazonaws.com/{id}")),
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

pub async fn read(aws: &Aws, name: &str, physical: Option<&str>) -> Result<Option<Live<Props>>, AwsError> {
    let id = match physical {
        Some(id) => Some(id.to_owned()),
        None => super::the_one_named("user pool", name, find_pools(aws, name).await?, "cognito-idp:ListUserPools")?,
    };
    let Some(id) = id else { return Ok(None) };
    let Some(out) =
        optional(aws.cognito.describe_user_pool().user_pool_id(&id).send().await.ctx("cognito-idp:DescribeUserPool"))?
    else {
        return Ok(None);
    };
    let Some(p) = out.user_pool() else { return Ok(None) };
    let pw = p.policies().and_then(|x| x.password_policy());
    let props = Props {
        name: p.name().unwrap_or_default().to_owned(),
        sign_in: if p.username_attributes().contains(&UsernameAttributeType::Email) { "email" } else { "username" }
            .to_owned(),
        // Pools created without the setting are case-sensitive (the API's default).
        case_sensitive_user_names: p.username_configuration().map(|u| u.case_sensitive()).unwrap_or(true),
        auto_verified: p.auto_verified_attributes().iter().map(|a| a.as_str().to_owned()).collect(),
        self_sign_up: !p.admin_create_user_config().is_some_and(|c| c.allow_admin_create_user_only()),
        password: PasswordPolicy {
            min_length: pw.and_then(|x| x.minimum_length()),
            require_lowercase: pw.is_some_and(|x| x.require_lowercase()),
            require_uppercase: pw.is_some_and(|x| x.require_uppercase()),
            require_numbers: pw.is_some_and(|x| x.require_numbers()),
            require_symbols: pw.is_some_and(|x| x.require_symbols()),
        },
        deletion_protection: p
            .deletion_protection()
            .map_or(DeletionProtectionType::Inactive.as_str(), |d| d.as_str())
            .to_owned(),
        pre_sign_up: p.lambda_config().and_then(|l| l.pre_sign_up()).map(str::to_owned),
        invitation: p.admin_create_user_config().and_then(|c| c.invite_message_template()).and_then(|t| {
            Some(Invitation { subject: t.email_subject()?.to_owned(), message: t.email_message()?.to_owned() })
        }),
        tags: p.user_pool_tags().map(tags_from).unwrap_or_default(),
    };
    let arn = p.arn().map(str::to_owned).unwrap_or_default();
    Ok(Some(Live { outputs: pool_outputs(&id, &arn, &aws.region), physical: id, props }))
}

fn password_policy(want: &Props) -> PasswordPolicyType {
    let p = &want.password;
    PasswordPolicyType::builder()
        .set_minimum_length(p.min_length)
        .require_lowercase(p.require_lowercase)
        .require_uppercase(p.require_uppercase)
        .require_numbers(p.require_numbers)
        .require_symbols(p.require_symbols)
        .build()
}

fn admin_create(want: &Props) -> AdminCreateUserConfigType {
    let template = want
        .invitation
        .as_ref()
        .map(|i| MessageTemplateType::builder().email_subject(&i.subject).email_message(&i.message).build());
    AdminCreateUserConfigType::builder()
        .allow_admin_create_user_only(!want.self_sign_up)
        .set_invite_message_template(template)
        .build()
}

/// The pool's triggers: the pre sign-up function when sign-ups are vetted, none otherwise
/// (UpdateUserPool without LambdaConfig removes every trigger).
fn triggers(want: &Props) -> Option<LambdaConfigType> {
    want.pre_sign_up.as_ref().map(|arn| LambdaConfigType::builder().pre_sign_up(arn).build())
}

fn case_insensitive() -> Result<UsernameConfigurationType, ResourceError> {
    UsernameConfigurationType::builder()
        .case_sensitive(false)
        .build()
        .map_err(|e| ResourceError::Request(format!("user name configuration: {e}")))
}

async fn create(env: &Env<'_>, c: &UserPool, want: &Props) -> Result<String, ResourceError> {
    let usernames = case_insensitive()?;
    let create = async || {
        let out = env
            .aws
            .cognito
            .create_user_pool()
            .pool_name(&c.name)
            .username_attributes(UsernameAttributeType::Email)
            .username_configuration(usernames.clone())
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .policies(UserPoolPolicyType::builder().password_policy(password_policy(want)).build())
            .admin_create_user_config(admin_create(want))
            .set_lambda_config(triggers(want))
            .deletion_protection(DeletionProtectionType::Inactive)
            .set_user_pool_tags(Some(env.tags().clone().into_iter().collect()))
            .customize()
            .config_override(
                aws_sdk_cognitoidentityprovider::config::Builder::default().retry_config(super::no_retries()),
            )
            .send()
            .await
            .ctx("cognito-idp:CreateUserPool")?;
        Ok(out.user_pool().and_then(|p| p.id()).unwrap_or_default().to_owned())
    };
    Ok(super::create_once("user pool", &c.name, async || find_pools(env.aws, &c.name).await, create).await?)
}

async fn update(env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
    if live.props.case_sensitive_user_names != want.case_sensitive_user_names {
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
        .policies(UserPoolPolicyType::builder().password_policy(password_policy(want)).build())
        .admin_create_user_config(admin_create(want))
        .set_lambda_config(triggers(want))
        .deletion_protection(DeletionProtectionType::Inactive)
        .set_user_pool_tags(Some(env.tags().clone().into_iter().collect()))
        .send()
        .await
        .ctx("cognito-idp:UpdateUserPool")?;
    // Sign-ups no longer vetted: Cognito no longer needs to invoke the function, so its
    // permission goes with the trigger (the stack no longer declares it).
    if let (None, Some(function)) = (&want.pre_sign_up, &live.props.pre_sign_up) {
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
    Ok(())
}

/// Deletes the pool's domain and clients, then the pool. Missing = done.
pub async fn delete(aws: &Aws, id: &str) -> Result<(), AwsError> {
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
pub(crate) async fn list_clients(aws: &Aws, pool: &str) -> Result<Vec<(String, String)>, AwsError> {
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

/// Its place in `down`: once nothing signs in through it.
impl Step for UserPool {
    const TITLE: &'static str = "Cognito user pool (domain and clients first)";
    const WHY: &'static str = "sign-in is no longer needed; Cognito refuses to delete a pool that still has a domain";

    fn names(stack: &str) -> Vec<String> {
        vec![Names::user_pool(stack)]
    }

    async fn find(aws: &Aws, stack: &str, state: Option<&StateFile>) -> Result<BTreeSet<String>, AwsError> {
        let found = find_pools(aws, &Names::user_pool(stack)).await?;
        let tags = async |id: &str| -> Result<Option<BTreeMap<String, String>>, AwsError> {
            Ok(optional(
                aws.cognito.describe_user_pool().user_pool_id(id).send().await.ctx("cognito-idp:DescribeUserPool"),
            )?
            .map(|p| tag_map(p.user_pool().and_then(|p| p.user_pool_tags()))))
        };
        owned(stack, recorded(state, EDITOR.pool.id), found, false, tags).await
    }

    async fn delete(aws: &Aws, _stack: &str, id: &str) -> Result<(), AwsError> {
        delete(aws, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cognito refuses an invitation template without both placeholders, and a subject over 140
    /// characters (MessageTemplateType, Cognito API Reference).
    #[test]
    fn the_invitation_names_the_workshop_the_app_and_carries_the_placeholders() {
        let longest = "w".repeat(crate::config::MAX_WORKSHOP_NAME);
        let i = Invitation::new(&longest, "https://main.d1.amplifyapp.com");
        assert!(i.subject.chars().count() <= 140, "{}", i.subject);
        let i = Invitation::new("the Bedrock day", "https://main.d1.amplifyapp.com");
        assert_eq!(i.subject, "Your invitation to the Bedrock day");
        for part in ["{username}", "{####}", "the Bedrock day", "href=\"https://main.d1.amplifyapp.com\""] {
            assert!(i.message.contains(part), "{part} in {}", i.message);
        }
        assert!(i.message.len() <= 20_000);
    }
}
