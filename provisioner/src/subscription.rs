//! The models' subscriptions, made before the class. Every Stability model is a third-party model
//! sold through AWS Marketplace: an account needs a model access agreement before anyone may
//! invoke it. On AWS the first InvokeModel of a caller allowed to subscribe starts one in the
//! background (up to 15 minutes), but the function's role is rightly not allowed to, so in a fresh
//! account every attendee's first edit would be refused. `up` makes the agreements with the host's
//! credentials instead, the way AWS documents it for SDKs ("Manage model access using SDK and CLI",
//! bedrock/latest/userguide/model-access.html): `GetFoundationModelAvailability` per model, and
//! where the agreement is missing `ListFoundationModelAgreementOffers` → the public offer's token
//! → `CreateFoundationModelAgreement`, then waits (bounded) until the agreement is `AVAILABLE`.
//! `doctor` reads the same availability. Subscribing costs nothing until images are made.

use std::time::Duration;

use aws_sdk_bedrock::types::OfferType;
use image_edit_contract::catalogue::{self, Model};

use crate::aws::{Aws, AwsError, Ctx as _};

/// `GetFoundationModelAvailability`, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// `agreementAvailability.status`: AVAILABLE, PENDING, NOT_AVAILABLE or ERROR.
    pub agreement: String,
    pub error: Option<String>,
    /// `authorizationStatus` is AUTHORIZED.
    pub authorized: bool,
    /// `entitlementAvailability` is AVAILABLE.
    pub entitled: bool,
    /// `regionAvailability` is AVAILABLE.
    pub in_region: bool,
}

impl Availability {
    pub fn usable(&self) -> bool {
        self.agreement == "AVAILABLE" && self.entitled && self.authorized && self.in_region
    }
}

/// How long `up` waits for agreements to become usable, and how often it looks.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    pub timeout: Duration,
    pub every: Duration,
}

/// AWS: "During this setup period (up to 15 minutes)".
pub const WAIT: Wait = Wait { timeout: Duration::from_secs(15 * 60), every: Duration::from_secs(5) };

/// The Marketplace models the stack invokes (each once), from its operation → id map.
pub fn marketplace_models(models: &std::collections::BTreeMap<String, String>, region: &str) -> Vec<&'static Model> {
    let mut all = catalogue::models_of(models.values().map(String::as_str), region);
    all.retain(|m| m.marketplace);
    all
}

pub async fn availability(aws: &Aws, model: &Model) -> Result<Availability, AwsError> {
    let out = aws
        .bedrock
        .get_foundation_model_availability()
        .model_id(model.id)
        .send()
        .await
        .ctx("bedrock:GetFoundationModelAvailability")?;
    let agreement = out.agreement_availability();
    Ok(Availability {
        agreement: agreement.map(|a| a.status().as_str().to_owned()).unwrap_or_default(),
        error: agreement.and_then(|a| a.error_message()).map(str::to_owned),
        authorized: out.authorization_status().as_str() == "AUTHORIZED",
        entitled: out.entitlement_availability().as_str() == "AVAILABLE",
        in_region: out.region_availability().as_str() == "AVAILABLE",
    })
}

/// Why a model cannot be used and what to do, or `None` while it may still become usable.
fn refusal(m: &Model, a: &Availability, region: &str) -> Option<String> {
    if !a.in_region {
        return Some(format!("{}: Bedrock does not offer it in {region} to this account — change `region`", m.name));
    }
    if !a.authorized {
        return Some(format!(
            "{}: AWS has not authorized this account to use it (authorizationStatus NOT_AUTHORIZED) — ask AWS Support \
             to enable it",
            m.name
        ));
    }
    if a.agreement == "ERROR" {
        return Some(format!(
            "{}: the AWS Marketplace subscription failed ({}) — the account needs a valid payment method for AWS \
             Marketplace purchases (Billing → Payment preferences); then run `provision up` again",
            m.name,
            a.error.as_deref().unwrap_or("no reason given")
        ));
    }
    None
}

fn denied_fix(e: &AwsError) -> String {
    if e.code_is("AccessDeniedException") {
        " — the credentials running `provision up` need aws-marketplace:Subscribe and aws-marketplace:ViewSubscriptions \
         and bedrock:ListFoundationModelAgreementOffers, bedrock:CreateFoundationModelAgreement and \
         bedrock:GetFoundationModelAvailability (docs/setup.md, \"Permissions for the host\"), or an administrator runs \
         `provision up` once"
            .to_owned()
    } else {
        String::new()
    }
}

/// Starts the agreement of `m` from its public offer.
async fn subscribe(aws: &Aws, m: &Model) -> Result<(), String> {
    let offers = aws
        .bedrock
        .list_foundation_model_agreement_offers()
        .model_id(m.id)
        .offer_type(OfferType::Public)
        .send()
        .await
        .ctx("bedrock:ListFoundationModelAgreementOffers")
        .map_err(|e| format!("{}: {e}{}", m.name, denied_fix(&e)))?;
    let token = offers
        .offers()
        .first()
        .map(|o| o.offer_token().to_owned())
        .ok_or_else(|| format!("{}: Bedrock lists no public offer to subscribe to — ask AWS Support", m.name))?;
    aws.bedrock
        .create_foundation_model_agreement()
        .model_id(m.id)
        .offer_token(token)
        .send()
        .await
        .ctx("bedrock:CreateFoundationModelAgreement")
        .map_err(|e| format!("{}: {e}{}", m.name, denied_fix(&e)))?;
    Ok(())
}

/// Makes sure every Marketplace model the stack uses is subscribed: subscribes where it is not,
/// then waits until each is usable (at most `wait.timeout`). `Ok` carries one line per model;
/// `Err` the first model that cannot be used, with the reason and the fix. Availability that
/// cannot be read at all (no bedrock:GetFoundationModelAvailability) is an `Ok` line saying so:
/// the host may still deploy, and the first edit then shows whether the models are usable.
pub async fn ensure(
    aws: &Aws,
    models: &std::collections::BTreeMap<String, String>,
    region: &str,
    wait: Wait,
    say: &dyn Fn(String),
) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for m in marketplace_models(models, region) {
        let a = match availability(aws, m).await {
            Ok(a) => a,
            Err(e) => {
                lines.push(format!("{}: availability not read ({e}); models are not subscribed by `up`", m.name));
                continue;
            }
        };
        if let Some(why) = refusal(m, &a, region) {
            return Err(why);
        }
        if a.usable() {
            lines.push(format!("{}: subscribed", m.name));
            continue;
        }
        if a.agreement == "NOT_AVAILABLE" {
            say(format!("subscribing the account to {} (AWS Marketplace; no charge until images are made)", m.name));
            subscribe(aws, m).await?;
        }
        let started = std::time::Instant::now();
        loop {
            let a = availability(aws, m).await.map_err(|e| format!("{}: {e}", m.name))?;
            if let Some(why) = refusal(m, &a, region) {
                return Err(why);
            }
            if a.usable() {
                lines.push(format!("{}: subscribed ({} s)", m.name, started.elapsed().as_secs()));
                break;
            }
            if started.elapsed() >= wait.timeout {
                return Err(format!(
                    "{}: the subscription is still {} after {} minutes (AWS takes up to 15) — run `provision up` \
                     again later; nothing else is needed",
                    m.name,
                    a.agreement,
                    wait.timeout.as_secs() / 60
                ));
            }
            say(format!(
                "waiting for the {} subscription ({}, {} s so far)",
                m.name,
                a.agreement,
                started.elapsed().as_secs()
            ));
            tokio::time::sleep(wait.every).await;
        }
    }
    Ok(lines)
}

/// `doctor`'s line for one model: whether the account may invoke it now. Not subscribed yet is
/// not a failure (before the first `up` it is expected, and `up` subscribes); a subscription that
/// failed or that AWS has not authorized is.
pub async fn check(aws: &Aws, m: &Model, region: &str) -> Result<String, String> {
    let a = availability(aws, m).await.map_err(|e| format!("{}: {e}{}", m.name, denied_fix(&e)))?;
    if let Some(why) = refusal(m, &a, region) {
        return Err(why);
    }
    Ok(if a.usable() {
        format!("{}: subscribed", m.name)
    } else {
        format!(
            "{}: not subscribed yet ({}): edits with it are refused until `provision up` subscribes the account",
            m.name, a.agreement
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(agreement: &str) -> Availability {
        Availability { agreement: agreement.into(), error: None, authorized: true, entitled: true, in_region: true }
    }

    #[test]
    fn each_state_has_its_answer() {
        let m = catalogue::model("stability.stable-image-core-v1:1").expect("in the catalogue");
        assert!(a("AVAILABLE").usable() && !a("PENDING").usable());
        assert_eq!(refusal(m, &a("PENDING"), "us-west-2"), None);
        let mut e = a("ERROR");
        e.error = Some("payment instrument required".into());
        assert!(
            refusal(m, &e, "us-west-2")
                .is_some_and(|s| s.contains("payment instrument required") && s.contains("valid payment method"))
        );
        let mut na = a("AVAILABLE");
        na.authorized = false;
        assert!(refusal(m, &na, "us-west-2").is_some_and(|s| s.contains("AWS Support")));
    }

    #[test]
    fn the_stack_models_are_counted_once() {
        let models: std::collections::BTreeMap<String, String> = [
            ("inpaint", "us.stability.stable-image-inpaint-v1:0"),
            ("x", "us.stability.stable-image-inpaint-v1:0"),
            ("generate", "stability.stable-image-core-v1:1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let ids: Vec<&str> = marketplace_models(&models, "us-west-2").iter().map(|m| m.id).collect();
        assert_eq!(ids, ["stability.stable-image-core-v1:1", "stability.stable-image-inpaint-v1:0"]);
    }
}
