//! Switches: what a test turns on with `POST /_localcloud/bedrock/config` (latency, throttling, a
//! concurrency quota, content-filter blocks, model failures, lifecycle statuses).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Block {
    Input,
    Output,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Fail {
    ModelError,
    Timeout,
    NotReady,
    AccessDenied,
}

/// The test switches; `POST /_localcloud/bedrock/config` replaces them all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Settings {
    /// Sleep this long before every InvokeModel answer.
    #[serde(default)]
    pub(super) latency_ms: u64,
    /// Answer every InvokeModel with ThrottlingException.
    #[serde(default)]
    pub(super) throttle: bool,
    /// A quota of concurrent InvokeModel calls per model id (as invoked: an inference profile and
    /// its model have quotas of their own). Over it, ThrottlingException, as Bedrock answers a
    /// call over its quota ("Quotas for Amazon Bedrock": per model, per Region; "New AWS accounts
    /// might receive reduced quotas"). Unset: no limit.
    #[serde(default)]
    pub(super) max_concurrent: Option<u32>,
    /// Content filter: `input` rejects valid requests, `output` blocks the generated images.
    #[serde(default)]
    pub(super) block: Option<Block>,
    /// Fail InvokeModel this way: `access_denied` before looking at the body (as IAM does), the
    /// others only for valid requests (as a model does).
    #[serde(default)]
    pub(super) fail: Option<Fail>,
    /// GetFoundationModel `modelLifecycle.status` per model id (default `ACTIVE`), e.g.
    /// `{"stability.stable-image-core-v1:1": "LEGACY"}`.
    #[serde(default)]
    pub(super) lifecycle: BTreeMap<String, String>,
    /// How long a new model access agreement stays `PENDING` (AWS: up to 15 minutes).
    #[serde(default)]
    pub(super) agreement_delay_ms: u64,
    /// Make new agreements fail with this `errorMessage` (`ERROR`), as one does in an account
    /// without a valid payment method for AWS Marketplace purchases.
    #[serde(default)]
    pub(super) agreement_error: Option<String>,
}
