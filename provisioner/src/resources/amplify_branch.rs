//! The Amplify branch the site is deployed to (production stage).

use std::collections::BTreeMap;

use aws_sdk_amplify::types::Stage;
use serde::Serialize;
use serde_json::{Value, json};

use super::amplify_app::{AmplifyApp, retag};
use super::{Env, Live, Resource, ResourceError, tags_value, to_json};
use crate::aws::{AwsError, Ctx, optional};
use crate::cfn_types::amplify_branch as cfn;
use crate::stack::{Id, Out, Ref};
use crate::synth::{CfnResource, SynthError, Template, tag_list, val};

#[derive(Debug, Clone)]
pub struct AmplifyBranch {
    pub name: String,
    pub app: Ref<AmplifyApp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Props {
    pub name: String,
    pub stage: &'static str,
    pub tags: Value,
}

/// What other constructs (and `synth`) may read of a AmplifyBranch.
impl AmplifyBranch {
    pub const NAME: Out<Self> = Out::new("name");
    pub const ARN: Out<Self> = Out::new("arn");
}

impl Resource for AmplifyBranch {
    const KIND: &'static str = cfn::Branch::TYPE;
    type Props = Props;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![self.app.id]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props { name: self.name.clone(), stage: "PRODUCTION", tags: tags_value(env.tags()) })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live>, ResourceError> {
        Ok(read(env, self).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<Live, ResourceError> {
        env.aws
            .amplify
            .create_branch()
            .app_id(env.outputs.get(self.app, AmplifyApp::ID))
            .branch_name(&want.name)
            .stage(Stage::from(want.stage))
            .set_tags(Some(env.tags().clone().into_iter().collect()))
            .send()
            .await
            .ctx("amplify:CreateBranch")?;
        read(env, self).await?.ok_or_else(|| ResourceError::Vanished {
            kind: "Amplify branch",
            id: want.name.to_string(),
            when: "right after it was created",
        })
    }

    async fn update(&self, env: &Env<'_>, live: &Live, want: &Props) -> Result<Live, ResourceError> {
        let desired = to_json(want)?;
        if live.props["stage"] != desired["stage"] {
            env.aws
                .amplify
                .update_branch()
                .app_id(env.outputs.get(self.app, AmplifyApp::ID))
                .branch_name(&want.name)
                .stage(Stage::from(want.stage))
                .send()
                .await
                .ctx("amplify:UpdateBranch")?;
        }
        if live.props["tags"] != desired["tags"]
            && let Some(arn) = live.outputs.get(AmplifyBranch::ARN.key)
        {
            retag(env, arn, &live.props["tags"], &desired["tags"]).await?;
        }
        read(env, self).await?.ok_or_else(|| ResourceError::Vanished {
            kind: "Amplify branch",
            id: want.name.to_string(),
            when: "during the update",
        })
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        t.add(
            id,
            &cfn::Branch {
                app_id: val(format!("${{{}.id}}", self.app.id)),
                branch_name: val(&want.name),
                stage: val(want.stage),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            json!({}),
        )
    }
}

async fn read(env: &Env<'_>, c: &AmplifyBranch) -> Result<Option<Live>, AwsError> {
    let Some(app) = env.outputs.known(c.app, AmplifyApp::ID) else { return Ok(None) };
    let Some(out) =
        optional(env.aws.amplify.get_branch().app_id(app).branch_name(&c.name).send().await.ctx("amplify:GetBranch"))?
    else {
        return Ok(None);
    };
    let Some(b) = out.branch() else { return Ok(None) };
    let tags: BTreeMap<String, String> =
        b.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    Ok(Some(Live {
        physical: b.branch_name().to_owned(),
        props: json!({"name": b.branch_name(), "stage": b.stage().as_str(), "tags": tags_value(&tags)}),
        outputs: BTreeMap::from([
            (AmplifyBranch::NAME.key.to_owned(), b.branch_name().to_owned()),
            (AmplifyBranch::ARN.key.to_owned(), b.branch_arn().to_owned()),
        ]),
    }))
}
