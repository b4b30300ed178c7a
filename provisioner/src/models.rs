//! Which ARNs `bedrock:InvokeModel` needs for the stack's model ids.
//!
//! A foundation model invoked in-region needs its own ARN. A cross-region inference profile needs
//! the profile's ARN plus the foundation model's ARN in every region the profile routes to
//! (<https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html>). Those
//! destination regions are AWS's to change, so `up`, `diff` and `status` read them with
//! GetInferenceProfile ([`ModelAccess::read`]); only `synth`, which makes no calls, takes them from
//! the catalogue ([`ModelAccess::documented`]) and says so in the template.
//!
//! `global.` profiles (whose IAM needs a region-less foundation-model ARN and an
//! `aws:RequestedRegion` condition) are not offered for any image model this project uses; the
//! stack file refuses them as unknown ids.

use std::collections::BTreeMap;

use image_edit_contract::catalogue;

use crate::aws::{Aws, AwsError, Ctx};
use crate::config::StackConfig;

/// Where the destination regions of the profiles came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The catalogue (AWS's documented regions; `synth`, plans without credentials).
    Documented,
    /// GetInferenceProfile in the stack's account and region.
    Read,
}

/// One model id of the stack and what invoking it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelGrant {
    /// The id the function invokes (a foundation-model id or a profile id).
    pub id: String,
    /// For a profile: the foundation-model ARNs of its destination regions. Empty for a
    /// foundation model invoked in-region.
    pub destinations: Vec<String>,
}

impl ModelGrant {
    pub fn is_profile(&self) -> bool {
        catalogue::profile(&self.id).is_some()
    }

    /// The resource ARNs of the grant, sorted.
    pub fn arns(&self, region: &str, account: &str) -> Vec<String> {
        let mut v = if self.is_profile() {
            let mut v = vec![catalogue::profile_arn(region, account, &self.id)];
            v.extend(self.destinations.iter().cloned());
            v
        } else {
            vec![catalogue::foundation_model_arn(region, &self.id)]
        };
        v.sort();
        v.dedup();
        v
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAccess {
    pub grants: Vec<ModelGrant>,
    pub origin: Origin,
}

impl ModelAccess {
    /// From the catalogue: the documented destination regions of each profile.
    pub fn documented(config: &StackConfig) -> ModelAccess {
        let grants = model_ids(config)
            .into_iter()
            .map(|id| {
                let destinations = catalogue::profile(&id)
                    .map(|(m, p)| p.destinations.iter().map(|r| catalogue::foundation_model_arn(r, m.id)).collect())
                    .unwrap_or_default();
                ModelGrant { id, destinations }
            })
            .collect();
        ModelAccess { grants, origin: Origin::Documented }
    }

    /// From AWS: GetInferenceProfile for each profile id (concurrently), its `models[].modelArn`
    /// as they are.
    pub async fn read(aws: &Aws, config: &StackConfig) -> Result<ModelAccess, AwsError> {
        let grants = futures::future::try_join_all(model_ids(config).into_iter().map(|id| async move {
            if catalogue::profile(&id).is_none() {
                return Ok(ModelGrant { id, destinations: Vec::new() });
            }
            let out = aws
                .bedrock
                .get_inference_profile()
                .inference_profile_identifier(&id)
                .send()
                .await
                .ctx("bedrock:GetInferenceProfile")?;
            let mut destinations: Vec<String> =
                out.models().iter().filter_map(|m| m.model_arn().map(str::to_owned)).collect();
            destinations.sort();
            if destinations.is_empty() {
                return Err(AwsError::new(
                    "bedrock:GetInferenceProfile",
                    format!("inference profile {id} lists no models to route to"),
                ));
            }
            Ok(ModelGrant { id, destinations })
        }))
        .await?;
        Ok(ModelAccess { grants, origin: Origin::Read })
    }

    /// Every resource ARN, sorted and unique.
    pub fn arns(&self, region: &str, account: &str) -> Vec<String> {
        let mut v: Vec<String> = self.grants.iter().flat_map(|g| g.arns(region, account)).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Why these ARNs, in one sentence per kind (for the template's metadata).
    pub fn explanation(&self) -> String {
        let profiles: Vec<&str> = self.grants.iter().filter(|g| g.is_profile()).map(|g| g.id.as_str()).collect();
        let plain: Vec<&str> = self.grants.iter().filter(|g| !g.is_profile()).map(|g| g.id.as_str()).collect();
        let mut parts = Vec::new();
        if !plain.is_empty() {
            parts.push(format!("in-region foundation models (their ARN in the stack's region): {}", plain.join(", ")));
        }
        if !profiles.is_empty() {
            parts.push(format!(
                "cross-region inference profiles (the profile ARN and the foundation model in each destination region, {}): {}",
                match self.origin {
                    Origin::Documented => "as documented by AWS; `provision up` reads them with GetInferenceProfile",
                    Origin::Read => "read with GetInferenceProfile",
                },
                profiles.join(", ")
            ));
        }
        parts.join("; ")
    }
}

fn model_ids(config: &StackConfig) -> Vec<String> {
    let mut ids: Vec<String> = config.models.values().cloned().collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The tables of docs/setup.md ("Choosing a region"), rendered from the catalogue and the families'
/// defaults; a test keeps the page equal to them.
pub fn docs_tables() -> String {
    use crate::config::ModelFamily;
    let families = ModelFamily::ALL;
    let mut out = format!(
        "| region | {} |\n|---|{}\n",
        families.map(|f| format!("`{}`", f.as_str())).join(" | "),
        "---|".repeat(families.len())
    );
    for region in image_edit_contract::REGIONS {
        let cells: Vec<String> = families
            .iter()
            .map(|f| {
                let models = f.models_in(region);
                if models.is_empty() {
                    return "—".to_owned();
                }
                let mut profile_ops = Vec::new();
                let mut plain: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                for (op, id) in &models {
                    if catalogue::profile(id).is_some() {
                        profile_ops.push(op.as_str());
                    } else {
                        plain.entry(id.as_str()).or_default().push(op.as_str());
                    }
                }
                let mut parts = Vec::new();
                if !profile_ops.is_empty() {
                    parts.push(format!("{} through `us.` inference profiles", profile_ops.join(", ")));
                }
                for (id, ops) in plain {
                    let all = ops.len() == f.base_models().len();
                    parts.push(format!(
                        "{} in-region (`{id}`)",
                        if all { "every operation".to_owned() } else { ops.join(", ") }
                    ));
                }
                let missing: Vec<&str> = f.base_models().into_keys().filter(|op| !models.contains_key(*op)).collect();
                if !missing.is_empty() {
                    parts.push(format!("no {}", missing.join(", ")));
                }
                parts.join("; ")
            })
            .collect();
        out.push_str(&format!("| {region} | {} |\n", cells.join(" | ")));
    }
    out.push_str("\n| model | lifecycle | in-region (on demand) | cross-region profile → destination regions |\n|---|---|---|---|\n");
    for m in catalogue::MODELS.iter().filter(|m| families.iter().any(|f| f.base_models().values().any(|b| *b == m.id)))
    {
        let lifecycle = match m.lifecycle {
            catalogue::Lifecycle::Active => "active".to_owned(),
            catalogue::Lifecycle::Legacy { eol } => format!("**legacy, end of life {eol}**"),
        };
        let on_demand = if m.on_demand.is_empty() { "—".to_owned() } else { m.on_demand.join(", ") };
        let profiles = if m.profiles.is_empty() {
            "—".to_owned()
        } else {
            m.profiles
                .iter()
                .map(|p| format!("`{}` → {}", p.id, p.destinations.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&format!("| [`{}`]({}) | {lifecycle} | {on_demand} | {profiles} |\n", m.id, m.source));
    }
    for r in catalogue::RETIRED {
        out.push_str(&format!(
            "| [`{}`]({}) (`family: {}`) | **retired {}**: refused in a stack file | — | — |\n",
            r.id, r.source, r.family, r.eol
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_grants_the_profile_and_its_destination_models_exactly() {
        let g = ModelGrant {
            id: "us.stability.stable-image-inpaint-v1:0".into(),
            destinations: vec![
                "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-inpaint-v1:0".into(),
                "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-inpaint-v1:0".into(),
            ],
        };
        assert_eq!(
            g.arns("us-west-2", "111122223333"),
            vec![
                "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-inpaint-v1:0",
                "arn:aws:bedrock:us-west-2:111122223333:inference-profile/us.stability.stable-image-inpaint-v1:0",
                "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-inpaint-v1:0",
            ]
        );
    }

    #[test]
    fn a_foundation_model_grant_is_regional_and_exact() {
        let g = ModelGrant { id: "stability.stable-image-core-v1:1".into(), destinations: vec![] };
        assert_eq!(
            g.arns("us-west-2", "1"),
            vec!["arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1"]
        );
    }
}
