//! The Amplify branch the site is deployed to (production stage).

use std::collections::BTreeMap;

use aws_sdk_amplify::types::Stage;
use serde::Serialize;
use serde_json::json;

use super::amplify_app::{AmplifyApp, retag};
use super::{Env, Live, Resource, ResourceError, Tags, tags_from};
use crate::aws::{AwsError, Ctx, optional};
use crate::cfn_types::amplify_branch as cfn;
use crate::stack::{Id, Out, Ref};
use crate::synth::{CfnResource, SynthError, Template, tag_list, val};

#[derive(Debug, Clone)]
pub struct AmplifyBranch {
    pub name: String,
    pub app: Ref<AmplifyApp>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Props {
    pub name: String,
    pub stage: String,
    pub tags: Tags,
}

/// What other constructs (and `synth`) may read of a AmplifyBranch.
impl AmplifyBranch {
    pub const NAME: Out<Self> = Out::attribute("name", "BranchName");
    pub const ARN: Out<Self> = Out::attribute("arn", "Arn");
}

impl Resource for AmplifyBranch {
    const KIND: &'static str = cfn::Branch::TYPE;
    type Props = Props;
    const OUTPUTS: &'static [Out<Self>] = &[Self::NAME, Self::ARN];

    fn name(&self) -> String {
        self.name.clone()
    }

    fn deps(&self) -> Vec<Id> {
        vec![self.app.id]
    }

    fn desired(&self, env: &Env<'_>) -> Result<Props, ResourceError> {
        Ok(Props { name: self.name.clone(), stage: Stage::Production.as_str().to_owned(), tags: env.tags().clone() })
    }

    async fn read(&self, env: &Env<'_>, _physical: Option<&str>) -> Result<Option<Live<Props>>, ResourceError> {
        Ok(read(env, self).await?)
    }

    async fn create(&self, env: &Env<'_>, want: &Props) -> Result<String, ResourceError> {
        env.aws
            .amplify
            .create_branch()
            .app_id(env.outputs.get(self.app, AmplifyApp::ID))
            .branch_name(&want.name)
            .stage(Stage::from(want.stage.as_str()))
            .set_tags(Some(env.tags().clone().into_iter().collect()))
            .send()
            .await
            .ctx("amplify:CreateBranch")?;
        Ok(want.name.clone())
    }

    async fn update(&self, env: &Env<'_>, live: &Live<Props>, want: &Props) -> Result<(), ResourceError> {
        if live.props.stage != want.stage {
            env.aws
                .amplify
                .update_branch()
                .app_id(env.outputs.get(self.app, AmplifyApp::ID))
                .branch_name(&want.name)
                .stage(Stage::from(want.stage.as_str()))
                .send()
                .await
                .ctx("amplify:UpdateBranch")?;
        }
        if live.props.tags != want.tags
            && let Some(arn) = live.outputs.get(AmplifyBranch::ARN.key)
        {
            retag(env, arn, &live.props.tags, &want.tags).await?;
        }
        Ok(())
    }

    fn synth(&self, id: Id, want: &Props, t: &mut Template) -> Result<(), SynthError> {
        t.add(
            id,
            &cfn::Branch {
                app_id: val(format!("${{{}.id}}", self.app.id)),
                branch_name: val(&want.name),
                stage: val(&want.stage),
                tags: Some(tag_list(t.tags())),
                ..Default::default()
            },
            json!({}),
        )
    }
}

async fn read(env: &Env<'_>, c: &AmplifyBranch) -> Result<Option<Live<Props>>, AwsError> {
    let Some(app) = env.outputs.known(c.app, AmplifyApp::ID) else { return Ok(None) };
    let Some(out) =
        optional(env.aws.amplify.get_branch().app_id(app).branch_name(&c.name).send().await.ctx("amplify:GetBranch"))?
    else {
        return Ok(None);
    };
    let Some(b) = out.branch() else { return Ok(None) };
    Ok(Some(Live {
        physical: b.branch_name().to_owned(),
        props: Props {
            name: b.branch_name().to_owned(),
            stage: b.stage().as_str().to_owned(),
            tags: b.tags().map(tags_from).unwrap_or_default(),
        },
        outputs: BTreeMap::from([
            (AmplifyBranch::NAME.key.to_owned(), b.branch_name().to_owned()),
            (AmplifyBranch::ARN.key.to_owned(), b.branch_arn().to_owned()),
        ]),
    }))
}
