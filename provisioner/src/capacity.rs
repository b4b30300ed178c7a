//! The account's capacity for a class: how many edits Lambda runs at once in this account and
//! Region, how long a class pressing "Edit" together waits, and whether the stack's
//! `function.reserved_concurrency` fits — checked by `up` before anything is created (Lambda would
//! refuse the reservation only after the function exists, leaving a half-built stack), and shown
//! by `doctor`. And what Bedrock lets the account do with each model the stack uses: its quotas
//! as Service Quotas lists them (printed, never enforced here: Bedrock throttles, the app retries).

use image_edit_contract::lambda_concurrency::{increase_url, minimum_unreserved};

use crate::aws::{Aws, AwsError, Ctx, optional};

/// A class, as the docs size a workshop.
pub const CLASS: u32 = 30;
/// Seconds Bedrock takes for one image, roughly (Stability's image services: 3–10 s).
pub const SECONDS_PER_IMAGE: u32 = 5;

/// What `GetAccountSettings` and the function's own reservation say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// `AccountLimit.ConcurrentExecutions`.
    pub account: u32,
    /// `AccountLimit.UnreservedConcurrentExecutions`.
    pub unreserved: u32,
    /// What this stack's function reserves now (it is part of what is reserved above).
    pub reserved_here: Option<u32>,
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// Reads the account's concurrency and the function's reservation (none while it does not exist).
pub async fn read(aws: &Aws, function: &str) -> Result<Capacity, AwsError> {
    let settings = aws.lambda.get_account_settings().send().await.ctx("lambda:GetAccountSettings")?;
    let limit = settings.account_limit();
    let reserved = optional(
        aws.lambda.get_function_concurrency().function_name(function).send().await.ctx("lambda:GetFunctionConcurrency"),
    )?
    .and_then(|c| c.reserved_concurrent_executions());
    Ok(Capacity {
        account: count(limit.map_or(0, |l| l.concurrent_executions())),
        unreserved: count(limit.and_then(|l| l.unreserved_concurrent_executions()).unwrap_or(0)),
        reserved_here: reserved.map(count),
    })
}

impl Capacity {
    /// The most this stack's function may reserve: what is unreserved (plus its own reservation,
    /// which a new value replaces), less what Lambda keeps unreserved.
    pub fn reservable(&self) -> u32 {
        (self.unreserved + self.reserved_here.unwrap_or(0)).saturating_sub(minimum_unreserved(self.account))
    }

    /// `function.reserved_concurrency` against the account; the error names the field, the
    /// figures, and the fix.
    pub fn check_reservation(&self, wanted: Option<i32>, region: &str) -> Result<(), String> {
        let Some(wanted) = wanted else { return Ok(()) };
        let room = self.reservable();
        if count(wanted) <= room {
            return Ok(());
        }
        Err(format!(
            "function.reserved_concurrency: {wanted} is more than this account can reserve in {region} ({room}): it has {} \
             concurrent executions, and Lambda keeps {} of them unreserved (\"decreases account's \
             UnreservedConcurrentExecution below its minimum value of [{}]\"). Remove function.reserved_concurrency, or \
             raise the account's Lambda concurrency first: {}",
            self.account,
            minimum_unreserved(self.account),
            minimum_unreserved(self.account),
            increase_url(region)
        ))
    }

    /// How many edits run at once: the function's reservation, else what is not reserved.
    pub fn at_once(&self, reserved: Option<i32>) -> u32 {
        reserved.map(count).unwrap_or(self.unreserved + self.reserved_here.unwrap_or(0))
    }

    /// One line for people: edits at once, a class's wait, and the fix when it is low. The bool
    /// says whether a class fits at once.
    pub fn summary(&self, reserved: Option<i32>, region: &str) -> (bool, String) {
        let at_once = self.at_once(reserved);
        let waves = CLASS.div_ceil(at_once.max(1));
        let mut line = format!(
            "{at_once} edits at once (Lambda: {} concurrent executions in {region}, {} unreserved); a class of {CLASS} \
             pressing Edit together waits up to ≈{} s at ~{SECONDS_PER_IMAGE} s an image",
            self.account,
            self.unreserved,
            waves * SECONDS_PER_IMAGE
        );
        let fits = at_once >= CLASS;
        if !fits {
            line.push_str(&format!(
                " (the app retries the rest by itself); for a class at once, ask for more: {}",
                increase_url(region)
            ));
        }
        (fits, line)
    }
}

/// Service Quotas' code for Amazon Bedrock (`ListServices`; "Quotas for Amazon Bedrock",
/// userguide/quotas.html: "select Amazon Bedrock as the service").
pub const BEDROCK_SERVICE_CODE: &str = "bedrock";

/// One of a model's Bedrock quotas in this account and Region.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelQuota {
    /// e.g. "Cross-Region InvokeModel tokens per minute for Stable Image Inpaint".
    pub name: String,
    /// The value applied to this account (reduced in new accounts: "New AWS accounts might receive
    /// reduced quotas", userguide/quotas-runtime.html).
    pub value: f64,
}

/// Every Bedrock quota of the account in this Region (ListServiceQuotas, all pages).
pub async fn bedrock_quotas(aws: &Aws) -> Result<Vec<ModelQuota>, AwsError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .quotas
            .list_service_quotas()
            .service_code(BEDROCK_SERVICE_CODE)
            .set_next_token(token)
            .send()
            .await
            .ctx("servicequotas:ListServiceQuotas")?;
        out.extend(
            page.quotas()
                .iter()
                .filter_map(|q| Some(ModelQuota { name: q.quota_name()?.to_owned(), value: q.value()? })),
        );
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The inference quotas of one model, by its Bedrock name: AWS names them
/// "<Cross-Region|On-demand> InvokeModel tokens per minute for ${model}" and "Model invocation max
/// tokens per day for ${model}" (userguide/quotas-runtime.html; the requests-per-minute rows were
/// removed in 2026: "Amazon Bedrock no longer enforces requests-per-minute (RPM) quotas on the
/// bedrock-runtime endpoint"). Matched on the trailing "for <name>" so that "Stable Image Core"
/// does not take "Stable Image Core 1.1"'s rows.
pub fn of_model<'q>(quotas: &'q [ModelQuota], model_name: &str) -> Vec<&'q ModelQuota> {
    let suffix = format!(" for {}", model_name.to_lowercase());
    quotas.iter().filter(|q| q.name.to_lowercase().ends_with(&suffix)).collect()
}

/// The account's Bedrock quotas in the Service Quotas console, where increases are asked for
/// ("Request an increase for Amazon Bedrock quotas", userguide/quotas-increase.html).
pub fn bedrock_quotas_url(region: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/servicequotas/home/services/{BEDROCK_SERVICE_CODE}/quotas")
}

/// One line per model for `up` and `doctor`: the model's quotas, or that Service Quotas lists
/// none for it (then Bedrock's throttling, which the app retries, is the only sign of the limit).
pub fn bedrock_summary(quotas: &[ModelQuota], model_name: &str, region: &str) -> String {
    let mine = of_model(quotas, model_name);
    if mine.is_empty() {
        return format!(
            "{model_name}: Service Quotas lists no quota for it in {region}; Bedrock answers ThrottlingException over \
             its limit and the app retries"
        );
    }
    let figures: Vec<String> = mine
        .iter()
        .map(|q| {
            let what = q.name.rsplit_once(" for ").map_or(q.name.as_str(), |(w, _)| w);
            format!("{what} {}", q.value.round() as u64)
        })
        .collect();
    format!("{model_name}: {} (raise them: {})", figures.join(", "), bedrock_quotas_url(region))
}

/// The catalogue names of the models `models` (operation → id) invokes, each once, in order.
pub fn model_names(models: &std::collections::BTreeMap<String, String>, region: &str) -> Vec<&'static str> {
    image_edit_contract::catalogue::models_of(models.values().map(String::as_str), region)
        .into_iter()
        .map(|m| m.name)
        .collect()
}

/// The lines `up` and `doctor` print about Bedrock's quotas; when Service Quotas can't be read
/// (no servicequotas:ListServiceQuotas permission), one line that says so.
pub async fn bedrock_lines(
    aws: &Aws,
    models: &std::collections::BTreeMap<String, String>,
    region: &str,
) -> Vec<String> {
    match bedrock_quotas(aws).await {
        Ok(quotas) => model_names(models, region).into_iter().map(|n| bedrock_summary(&quotas, n, region)).collect(),
        Err(e) => vec![format!("not read ({e}); see them at {}", bedrock_quotas_url(region))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: Capacity = Capacity { account: 10, unreserved: 10, reserved_here: None };
    const DEFAULT: Capacity = Capacity { account: 1000, unreserved: 1000, reserved_here: None };

    #[test]
    fn a_fresh_account_has_nothing_to_reserve() {
        let e = FRESH.check_reservation(Some(2), "us-west-2").expect_err("refused");
        assert!(
            e.starts_with("function.reserved_concurrency: 2 is more than this account can reserve in us-west-2 (0)")
        );
        assert!(e.contains("minimum value of [10]") && e.contains("L-B99A9384"), "{e}");
        assert_eq!(FRESH.check_reservation(None, "us-west-2"), Ok(()));
    }

    #[test]
    fn the_default_account_keeps_100_unreserved() {
        assert_eq!(DEFAULT.reservable(), 900);
        assert!(DEFAULT.check_reservation(Some(900), "us-west-2").is_ok());
        assert!(DEFAULT.check_reservation(Some(901), "us-west-2").is_err());
        // Changing this function's own reservation: what it holds now is free to take again.
        let held = Capacity { account: 1000, unreserved: 950, reserved_here: Some(50) };
        assert!(held.check_reservation(Some(900), "us-west-2").is_ok());
    }

    #[test]
    fn a_class_waits_in_waves_of_what_runs_at_once() {
        let (fits, line) = FRESH.summary(None, "us-west-2");
        assert!(!fits);
        assert!(
            line.starts_with("10 edits at once (Lambda: 10 concurrent executions in us-west-2, 10 unreserved)"),
            "{line}"
        );
        assert!(line.contains("waits up to ≈15 s") && line.contains("servicequotas"), "{line}");
        let (fits, line) = DEFAULT.summary(None, "us-west-2");
        assert!(fits && line.contains("≈5 s") && !line.contains("servicequotas"), "{line}");
        assert_eq!(DEFAULT.summary(Some(5), "us-west-2").1.split(' ').next(), Some("5"));
    }

    #[test]
    fn bedrock_quotas_are_matched_by_the_whole_model_name() {
        let q = |name: &str, value: f64| ModelQuota { name: name.into(), value };
        let listed = [
            q("Cross-Region InvokeModel tokens per minute for Stable Image Inpaint", 20000.0),
            q("Model invocation max tokens per day for Stable Image Inpaint", 28_800_000.0),
            q("On-demand InvokeModel tokens per minute for Stable Image Core 1.1", 5000.0),
            q("Cross-Region InvokeModel tokens per minute for Claude Sonnet 4", 1.0),
        ];
        assert_eq!(of_model(&listed, "Stable Image Inpaint").len(), 2);
        assert!(of_model(&listed, "Stable Image Core").is_empty());
        let line = bedrock_summary(&listed, "Stable Image Inpaint", "us-west-2");
        assert!(
            line.starts_with(
                "Stable Image Inpaint: Cross-Region InvokeModel tokens per minute 20000, Model invocation max tokens \
                 per day 28800000 (raise them: https://us-west-2.console.aws.amazon.com/servicequotas/"
            ),
            "{line}"
        );
        assert!(bedrock_summary(&listed, "Stable Image Outpaint", "us-west-2").contains("lists no quota"));
    }

    /// The AWS state no emulator produces: an account whose Service Quotas lists the models'
    /// token quotas over two pages (the local cloud lists none), and one whose credentials may not
    /// read them.
    #[tokio::test]
    async fn up_and_doctor_read_the_quotas_of_the_stack_models_over_every_page() {
        use aws_sdk_servicequotas::operation::list_service_quotas::ListServiceQuotasOutput;
        use aws_sdk_servicequotas::types::ServiceQuota;
        use aws_smithy_mocks::{RuleMode, mock, mock_client};

        let quota = |name: &str, value: f64| ServiceQuota::builder().quota_name(name).value(value).build();
        let first = mock!(aws_sdk_servicequotas::Client::list_service_quotas)
            .match_requests(|r| r.service_code() == Some(BEDROCK_SERVICE_CODE) && r.next_token().is_none())
            .then_output(move || {
                ListServiceQuotasOutput::builder()
                    .quotas(quota("Cross-Region InvokeModel tokens per minute for Stable Image Inpaint", 2000.0))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_servicequotas::Client::list_service_quotas)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(move || {
                ListServiceQuotasOutput::builder()
                    .quotas(quota("Cross-Region InvokeModel tokens per minute for Stable Image Outpaint", 1000.0))
                    .build()
            });
        let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let mut aws = Aws::from_sdk(sdk.clone(), "us-west-2");
        aws.quotas = mock_client!(aws_sdk_servicequotas, RuleMode::MatchAny, [&first, &second]);
        let models: std::collections::BTreeMap<String, String> = [
            ("inpaint", "us.stability.stable-image-inpaint-v1:0"),
            ("erase", "us.stability.stable-image-inpaint-v1:0"),
            ("outpaint", "us.stability.stable-outpaint-v1:0"),
            ("removeBackground", "us.stability.stable-image-remove-background-v1:0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let lines = bedrock_lines(&aws, &models, "us-west-2").await;
        assert_eq!(lines.len(), 3, "one line per model, each once: {lines:?}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("Stable Image Inpaint: Cross-Region InvokeModel tokens per minute 2000"))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("Stable Image Outpaint: Cross-Region InvokeModel tokens per minute 1000"))
        );
        assert!(lines.iter().any(|l| l.starts_with("Stable Image Remove Background: Service Quotas lists no quota")));

        let denied = mock!(aws_sdk_servicequotas::Client::list_service_quotas).then_error(|| {
            aws_sdk_servicequotas::operation::list_service_quotas::ListServiceQuotasError::AccessDeniedException(
                aws_sdk_servicequotas::types::error::AccessDeniedException::builder()
                    .message("not authorized to perform: servicequotas:ListServiceQuotas")
                    .meta(aws_smithy_types::error::ErrorMetadata::builder().code("AccessDeniedException").build())
                    .build(),
            )
        });
        let mut aws = Aws::from_sdk(sdk, "us-west-2");
        aws.quotas = mock_client!(aws_sdk_servicequotas, [&denied]);
        let lines = bedrock_lines(&aws, &models, "us-west-2").await;
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with("not read (") && lines[0].contains("servicequotas/home/services/bedrock/quotas"),
            "{lines:?}"
        );
    }
}
