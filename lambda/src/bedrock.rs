//! The Bedrock seam: a small trait so handlers run against a fake in tests and benchmarks, and its
//! implementation over aws-sdk-bedrockruntime with the error mapping of the API contract.

use std::future::Future;

use aws_sdk_bedrockruntime::config::Region;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::timeout::TimeoutConfig;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
use aws_smithy_types::Blob;
use serde_json::Value;

use crate::config::{BEDROCK_CONNECT_TIMEOUT, BEDROCK_MAX_ATTEMPTS, BEDROCK_OPERATION_TIMEOUT};
use crate::errors::ApiError;

/// Seconds a throttled caller is told to wait.
pub const THROTTLE_RETRY_AFTER_SECS: u32 = 5;
/// Seconds to wait when Bedrock itself is unavailable.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u32 = 10;
/// After a ModelNotReadyException: the app waits this long before it sends the request again
/// (the AWS SDKs themselves retry it a few times within seconds; a model being prepared takes
/// longer).
pub const NOT_READY_RETRY_AFTER_SECS: u32 = 20;

/// Invokes an image model with a JSON body and returns its JSON answer.
pub trait ImageModel: Send + Sync {
    fn invoke(&self, model_id: &str, body: &Value) -> impl Future<Output = Result<Value, ModelCallError>> + Send;
}

/// Why a model call failed, as Bedrock says it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelCallError {
    #[error("AccessDeniedException: {0}")]
    AccessDenied(String),
    #[error("ResourceNotFoundException: {0}")]
    NotFound(String),
    #[error("ValidationException: {0}")]
    Validation(String),
    #[error("ThrottlingException: {0}")]
    Throttled(String),
    #[error("ServiceQuotaExceededException: {0}")]
    QuotaExceeded(String),
    #[error("ModelNotReadyException: {0}")]
    NotReady(String),
    #[error("ModelTimeoutException: {0}")]
    ModelTimeout(String),
    #[error("ModelErrorException: {0}")]
    ModelFailed(String),
    #[error("ServiceUnavailableException: {0}")]
    Unavailable(String),
    #[error("InternalServerException: {0}")]
    Internal(String),
    /// Our own operation timeout ran out.
    #[error("no answer within the time budget")]
    Timeout,
    /// No HTTP answer (connection refused, DNS, TLS).
    #[error("could not reach Bedrock: {0}")]
    Network(String),
    /// An answer that is not the JSON we expect.
    #[error("unreadable answer: {0}")]
    BadResponse(String),
    #[error("{0}")]
    Other(String),
}

impl ModelCallError {
    /// Whether the model may have run, and Bedrock billed an image, despite this error. Only a
    /// refusal before the model runs is free: access, an unknown or unready model, a request
    /// Bedrock rejected as invalid (the input content filter among them), throttling and quotas.
    /// After a time-out, a model error, a 5xx or a connection cut, an image may have been made.
    pub fn may_have_run(&self) -> bool {
        !matches!(
            self,
            ModelCallError::AccessDenied(_)
                | ModelCallError::NotFound(_)
                | ModelCallError::Validation(_)
                | ModelCallError::Throttled(_)
                | ModelCallError::QuotaExceeded(_)
                | ModelCallError::NotReady(_)
        )
    }

    pub fn from_sdk(err: SdkError<InvokeModelError>) -> Self {
        match err {
            SdkError::ServiceError(service) => {
                let e = service.into_err();
                // The modeled message, else the one in the error metadata.
                let meta = e.message().unwrap_or_default().to_owned();
                let m = |own: Option<&str>| own.filter(|s| !s.is_empty()).map_or_else(|| meta.clone(), str::to_owned);
                match &e {
                    InvokeModelError::AccessDeniedException(x) => ModelCallError::AccessDenied(m(x.message())),
                    InvokeModelError::ResourceNotFoundException(x) => ModelCallError::NotFound(m(x.message())),
                    InvokeModelError::ValidationException(x) => ModelCallError::Validation(m(x.message())),
                    InvokeModelError::ThrottlingException(x) => ModelCallError::Throttled(m(x.message())),
                    InvokeModelError::ServiceQuotaExceededException(x) => ModelCallError::QuotaExceeded(m(x.message())),
                    InvokeModelError::ModelNotReadyException(x) => ModelCallError::NotReady(m(x.message())),
                    InvokeModelError::ModelTimeoutException(x) => ModelCallError::ModelTimeout(m(x.message())),
                    InvokeModelError::ModelErrorException(x) => ModelCallError::ModelFailed(m(x.message())),
                    InvokeModelError::ServiceUnavailableException(x) => ModelCallError::Unavailable(m(x.message())),
                    InvokeModelError::InternalServerException(x) => ModelCallError::Internal(m(x.message())),
                    other => ModelCallError::Other(format!("{}: {meta}", other.code().unwrap_or("UnknownError"))),
                }
            }
            SdkError::TimeoutError(_) => ModelCallError::Timeout,
            SdkError::DispatchFailure(ref d) if d.is_timeout() => ModelCallError::Timeout,
            other => {
                let detail = aws_sdk_bedrockruntime::error::DisplayErrorContext(&other).to_string();
                match other {
                    SdkError::DispatchFailure(_) => ModelCallError::Network(detail),
                    SdkError::ResponseError(_) => ModelCallError::BadResponse(detail),
                    _ => ModelCallError::Other(detail),
                }
            }
        }
    }

    /// The contract's answer for this failure. The message is for the person editing; what the
    /// workshop's host (the operator) can do is `for_host`, which the app shows apart.
    pub fn into_api_error(self, model_id: &str, region: &str) -> ApiError {
        let short = |m: &str| m.chars().take(300).collect::<String>();
        let unavailable = |for_host: String| ApiError::ModelUnavailable {
            message: "This model cannot be used by the app right now, so nothing was made (or counted). Ask your \
                      host: it is a setting of the workshop's AWS account, not something you can fix."
                .to_owned(),
            retry_after_secs: None,
            for_host: Some(for_host),
        };
        match self {
            ModelCallError::AccessDenied(m) => unavailable(format!(
                "Bedrock denied access to model {model_id} in {region}. Run `provision up`, which subscribes the \
                 account to the stack's models (Stability models are AWS Marketplace products; docs/setup.md \
                 section 4), and check that the function's role allows bedrock:InvokeModel on it. ({})",
                short(&m)
            )),
            ModelCallError::NotFound(m) => unavailable(format!(
                "model {model_id} is not available in {region} (wrong id, not offered in this region, or past its end \
                 of life). Configure a model or `us.` inference profile offered in {region} for this stack. ({})",
                short(&m)
            )),
            ModelCallError::Validation(m) => {
                let lower = m.to_ascii_lowercase();
                if crate::models::is_filter_message(&m) {
                    ApiError::ContentFiltered(
                        "the model's content filter blocked the input; change the prompt or the image".to_owned(),
                    )
                } else if lower.contains("on-demand throughput") || lower.contains("inference profile") {
                    unavailable(format!(
                        "model {model_id} cannot be invoked on demand in {region}. Configure its inference profile id \
                         instead (e.g. us.{model_id}; `provision doctor` names it). ({})",
                        short(&m)
                    ))
                } else if lower.contains("model identifier is invalid")
                    || lower.contains("end of its life")
                    || lower.contains("end of life")
                    || lower.contains("legacy")
                {
                    unavailable(format!(
                        "model {model_id} cannot be used in {region} (invalid id or end of life). Configure a current \
                         model for this stack (`provision doctor` lists them). ({})",
                        short(&m)
                    ))
                } else {
                    ApiError::Validation {
                        message: format!("the model rejected the request: {}", short(&m)),
                        field: None,
                    }
                }
            }
            ModelCallError::Throttled(_) | ModelCallError::QuotaExceeded(_) => ApiError::Throttled {
                message: "too many requests to the model right now; try again shortly".to_owned(),
                retry_after_secs: THROTTLE_RETRY_AFTER_SECS,
            },
            // "The model specified in the request is not ready to serve inference requests"
            // (InvokeModel, Bedrock API Reference): nothing was made, the same request may go again.
            ModelCallError::NotReady(m) => ApiError::ModelNotReady {
                message: "The model is still warming up, so nothing was made (or counted). The app tries again by \
                          itself; if it keeps saying this, ask your host."
                    .to_owned(),
                retry_after_secs: NOT_READY_RETRY_AFTER_SECS,
                for_host: Some(format!(
                    "Bedrock answered ModelNotReadyException for {model_id} in {region}: it is preparing the model, \
                     usually for a few minutes after access was granted. If it lasts, check the model's access in the \
                     Bedrock console of this region. ({})",
                    short(&m)
                )),
            },
            ModelCallError::Unavailable(_) => ApiError::ModelUnavailable {
                message: "Bedrock is temporarily unavailable; try again shortly".to_owned(),
                retry_after_secs: Some(UNAVAILABLE_RETRY_AFTER_SECS),
                for_host: None,
            },
            ModelCallError::ModelTimeout(_) | ModelCallError::Timeout => ApiError::ModelTimeout(format!(
                "the model did not answer in time (API Gateway waits at most {} s for an answer); try a smaller \
                 image, fewer images or standard quality",
                crate::config::INTEGRATION_TIMEOUT.as_secs()
            )),
            ModelCallError::ModelFailed(m) => ApiError::ModelError(format!("the model failed: {}", short(&m))),
            ModelCallError::Internal(_) => ApiError::ModelError("Bedrock had an internal error; try again".to_owned()),
            ModelCallError::Network(_) => ApiError::ModelError("could not reach Bedrock".to_owned()),
            ModelCallError::BadResponse(_) => ApiError::ModelError("the model's answer could not be read".to_owned()),
            ModelCallError::Other(m) => ApiError::ModelError(format!("the model call failed: {}", short(&m))),
        }
    }
}

/// [`ImageModel`] over aws-sdk-bedrockruntime.
#[derive(Clone, Debug)]
pub struct BedrockModel {
    client: aws_sdk_bedrockruntime::Client,
}

impl BedrockModel {
    pub fn new(client: aws_sdk_bedrockruntime::Client) -> Self {
        BedrockModel { client }
    }

    /// The client of the stack's Bedrock region (see [`client_config`]).
    /// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` is honoured through `sdk`.
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, region: &str) -> Self {
        let conf = client_config(aws_sdk_bedrockruntime::config::Builder::from(sdk), region).build();
        BedrockModel { client: aws_sdk_bedrockruntime::Client::from_conf(conf) }
    }
}

/// Region, timeouts that fit API Gateway's 29 s, and a bounded number of attempts (InvokeModel is
/// not idempotent; the SDK's standard policy only retries throttling, 5xx and connection errors).
pub fn client_config(
    builder: aws_sdk_bedrockruntime::config::Builder,
    region: &str,
) -> aws_sdk_bedrockruntime::config::Builder {
    builder
        .region(Region::new(region.to_owned()))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(BEDROCK_OPERATION_TIMEOUT)
                .connect_timeout(BEDROCK_CONNECT_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(BEDROCK_MAX_ATTEMPTS))
}

impl ImageModel for BedrockModel {
    async fn invoke(&self, model_id: &str, body: &Value) -> Result<Value, ModelCallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ModelCallError::Other(e.to_string()))?;
        let out = self
            .client
            .invoke_model()
            .model_id(model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new(bytes))
            .send()
            .await
            .map_err(ModelCallError::from_sdk)?;
        serde_json::from_slice(out.body().as_ref()).map_err(|e| ModelCallError::BadResponse(e.to_string()))
    }
}
