//! `provision doctor`'s model check: is each configured model id invocable the way the stack
//! invokes it, in the stack's region, and what to do when it is not.

use image_edit_contract::catalogue::{self, Lifecycle, Via};

use crate::aws::{Aws, AwsError, Ctx};

/// Checks one model id: the catalogue says how AWS offers it, GetFoundationModel says whether it
/// exists for this account and its lifecycle, `inferenceTypesSupported` whether the stack's way of
/// invoking it is offered, and GetInferenceProfile whether the profile is there. `Ok` carries the
/// line to print; `Err` the failure with its fix.
pub async fn model(aws: &Aws, region: &str, id: &str, today: &str) -> Result<String, String> {
    let (m, via) = catalogue::resolve(id, region).map_err(|e| format!("{id}: {e} — fix `models` in the stack file"))?;
    let details = aws
        .bedrock
        .get_foundation_model()
        .model_identifier(m.id)
        .send()
        .await
        .ctx("bedrock:GetFoundationModel")
        .map_err(|e| format!("{id}: {} — {}", e.message, access_fix(&e, region)))?;
    let d = details.model_details();
    let status = d.and_then(|d| d.model_lifecycle()).map(|l| l.status().as_str().to_owned()).unwrap_or_default();
    let types: Vec<String> =
        d.map(|d| d.inference_types_supported().iter().map(|t| t.as_str().to_owned()).collect()).unwrap_or_default();
    let how = match via {
        Via::OnDemand => "ON_DEMAND",
        Via::Profile(_) => "INFERENCE_PROFILE",
    };
    if !types.iter().any(|t| t == how) {
        let fix = match (via, m.invocable_id(region)) {
            (Via::OnDemand, Some(p)) if p != m.id => format!("use the inference profile `{p}`"),
            _ => format!("choose a region where it is offered ({})", m.regions().join(", ")),
        };
        return Err(format!(
            "{id}: Bedrock offers {} in {region} as {} only, but the stack invokes it {how} — {fix}",
            m.id,
            if types.is_empty() { "nothing".to_owned() } else { types.join(", ") }
        ));
    }
    let mut detail = format!("{id}: {status}");
    if let Via::Profile(p) = via {
        let out = aws
            .bedrock
            .get_inference_profile()
            .inference_profile_identifier(p.id)
            .send()
            .await
            .ctx("bedrock:GetInferenceProfile")
            .map_err(|e| format!("{id}: {} — {}", e.message, access_fix(&e, region)))?;
        let routes: Vec<&str> =
            out.models().iter().filter_map(|m| m.model_arn()).filter_map(|a| a.split(':').nth(3)).collect();
        if out.status().as_str() != "ACTIVE" || routes.is_empty() {
            return Err(format!("{id}: the inference profile is {} — choose another model", out.status().as_str()));
        }
        detail.push_str(&format!(", inference profile routing to {}", routes.join(", ")));
    }
    // Bedrock's word on the lifecycle, against the catalogue's date: LEGACY is a warning (the
    // account may still use it; "New customers can't use Legacy models", userguide/model-lifecycle.html),
    // past its end-of-life date it is refused.
    let eol = match m.lifecycle {
        Lifecycle::Legacy { eol } => Some(eol),
        Lifecycle::Active => None,
    };
    match (status.as_str(), eol) {
        ("ACTIVE", _) => Ok(detail),
        ("LEGACY", Some(eol)) if today > eol => Err(format!(
            "{detail}, end of life {eol} (passed): Bedrock no longer serves it — name another model for it in `models.ids` ({})",
            m.source
        )),
        ("LEGACY", eol) => Ok(format!(
            "{detail} — warning: a legacy model{}; new accounts cannot use it and AWS retires it: plan another model ({})",
            eol.map(|d| format!(", end of life {d}")).unwrap_or_default(),
            m.source
        )),
        _ => Err(format!("{detail} — choose another model in the stack file")),
    }
}

/// `up`'s reading of each model's lifecycle on AWS (GetFoundationModel): a model Bedrock calls
/// LEGACY is a warning line with its end-of-life date (new accounts may not use it); one past that
/// date is refused before anything is created. A lifecycle that cannot be read is said, not fatal:
/// `doctor` shows why.
pub async fn lifecycle_lines(
    aws: &Aws,
    models: &std::collections::BTreeMap<String, String>,
    region: &str,
    today: &str,
) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for m in catalogue::models_of(models.values().map(String::as_str), region) {
        let status = match aws.bedrock.get_foundation_model().model_identifier(m.id).send().await {
            Ok(out) => out.model_details().and_then(|d| d.model_lifecycle()).map(|l| l.status().as_str().to_owned()),
            Err(e) => {
                let e = AwsError::from_sdk("bedrock:GetFoundationModel", e);
                lines.push(format!("{}: lifecycle not read ({e})", m.name));
                continue;
            }
        };
        let eol = match m.lifecycle {
            Lifecycle::Legacy { eol } => Some(eol),
            Lifecycle::Active => None,
        };
        match (status.as_deref(), eol) {
            (Some("LEGACY"), Some(eol)) if today > eol => {
                return Err(format!(
                    "{} (`{}`) reached end of life on {eol} ({}): name another model for it in `models.ids`",
                    m.name, m.id, m.source
                ));
            }
            (Some("LEGACY"), eol) => lines.push(format!(
                "{}: LEGACY{} — new accounts cannot use it and AWS retires it: plan another model ({})",
                m.name,
                eol.map(|d| format!(", end of life {d}")).unwrap_or_default(),
                m.source
            )),
            _ => {}
        }
    }
    Ok(lines)
}

fn access_fix(e: &AwsError, region: &str) -> String {
    if e.code_is("AccessDeniedException") {
        format!(
            "these credentials may not use Bedrock in {region}: an administrator allows bedrock:GetFoundationModel, and invokes a Stability model once to subscribe the account (docs/setup.md)"
        )
    } else if e.is_not_found() || e.code_is("ValidationException") {
        format!("the model is not offered to this account in {region}: change `region` (docs/setup.md)")
    } else {
        "retry; if it persists see docs/troubleshooting.md".to_owned()
    }
}
