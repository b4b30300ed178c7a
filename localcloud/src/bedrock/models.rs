//! Models: the request schema each model id speaks, and the model an InvokeModel `modelId`
//! reaches from a region (where and how AWS offers each one is the catalogue's).

use image_edit_contract::catalogue;
use serde_json::{Value, json};

use super::errors::{ApiError, VResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Inpaint,
    Outpaint,
    SearchReplace,
    SearchRecolor,
    Erase,
    RemoveBackground,
    ControlSketch,
    ControlStructure,
    StyleGuide,
    StyleTransfer,
    FastUpscale,
    ConservativeUpscale,
    CreativeUpscale,
    Core,
    Ultra,
    Sd35,
}

/// The request schema each model speaks. Where and how AWS offers each one (regions, on-demand
/// or inference profile, lifecycle) is the catalogue's (`image_edit_contract::catalogue`), with
/// its sources.
pub(super) const KINDS: &[(&str, Kind)] = &[
    ("stability.stable-image-inpaint-v1:0", Kind::Inpaint),
    ("stability.stable-outpaint-v1:0", Kind::Outpaint),
    ("stability.stable-image-search-replace-v1:0", Kind::SearchReplace),
    ("stability.stable-image-search-recolor-v1:0", Kind::SearchRecolor),
    ("stability.stable-image-erase-object-v1:0", Kind::Erase),
    ("stability.stable-image-remove-background-v1:0", Kind::RemoveBackground),
    ("stability.stable-image-control-sketch-v1:0", Kind::ControlSketch),
    ("stability.stable-image-control-structure-v1:0", Kind::ControlStructure),
    ("stability.stable-image-style-guide-v1:0", Kind::StyleGuide),
    ("stability.stable-style-transfer-v1:0", Kind::StyleTransfer),
    ("stability.stable-fast-upscale-v1:0", Kind::FastUpscale),
    ("stability.stable-conservative-upscale-v1:0", Kind::ConservativeUpscale),
    ("stability.stable-creative-upscale-v1:0", Kind::CreativeUpscale),
    ("stability.stable-image-core-v1:1", Kind::Core),
    ("stability.stable-image-ultra-v1:1", Kind::Ultra),
    ("stability.sd3-5-large-v1:0", Kind::Sd35),
];

#[derive(Clone, Copy)]
pub(super) struct ModelInfo {
    pub(super) id: &'static str,
    pub(super) kind: Kind,
    pub(super) model: &'static catalogue::Model,
}

impl ModelInfo {
    fn input_modalities(&self) -> &'static [&'static str] {
        match self.kind {
            // No prompt field (https://docs.aws.amazon.com/bedrock/latest/userguide/stable-image-services.html).
            Kind::RemoveBackground | Kind::Erase | Kind::FastUpscale => &["IMAGE"],
            Kind::Core => &["TEXT"],
            _ => &["TEXT", "IMAGE"],
        }
    }

    /// GetFoundationModel's `modelDetails` (and a ListFoundationModels summary) in `region`.
    pub(super) fn details(&self, region: &str, status: &str) -> Value {
        json!({
            "modelArn": catalogue::foundation_model_arn(region, self.id),
            "modelId": self.id,
            "modelName": self.model.name,
            "providerName": self.model.provider,
            "inputModalities": self.input_modalities(),
            "outputModalities": ["IMAGE"],
            "responseStreamingSupported": false,
            "customizationsSupported": [],
            "inferenceTypesSupported": self.model.inference_types(region),
            "modelLifecycle": {"status": status},
        })
    }
}

pub(super) fn find_model(id: &str) -> Option<ModelInfo> {
    let kind = KINDS.iter().find(|(k, _)| *k == id)?.1;
    let model = catalogue::model(id)?;
    Some(ModelInfo { id: model.id, kind, model })
}

/// The model an InvokeModel `modelId` (an id or ARN of a foundation model or an inference
/// profile) reaches from `region`, or Bedrock's ValidationException: the plain id of a model that
/// is offered there only through a profile gets Bedrock's "on-demand throughput isn’t supported"
/// message; an id not offered in the region, "The provided model identifier is invalid."
/// (observed for Nova Canvas outside its regions; shared/reference/aws-fidelity.md); a retired
/// model (or a profile of it), ResourceNotFoundException with Bedrock's end-of-life message
/// (`catalogue::Retired` quotes it and its sources).
pub(super) fn resolve_invoke(raw: &str, region: &str) -> VResult<ModelInfo> {
    let invalid = || ApiError::validation("The provided model identifier is invalid.");
    if catalogue::retired(raw).is_some() {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            catalogue::END_OF_LIFE_MESSAGE,
        ));
    }
    match catalogue::resolve(raw, region) {
        Ok((m, _)) => find_model(m.id).ok_or_else(invalid),
        Err(e @ catalogue::Refusal::ProfileOnly { .. }) => Err(ApiError::validation(e.to_string())),
        Err(_) => Err(invalid()),
    }
}

/// The ARNs IAM checks `bedrock:InvokeModel` on for `raw` from `region`: the foundation model's
/// in the region; for a cross-region profile, the profile's and the foundation model's in every
/// region the profile routes to ("Prerequisites for inference profiles", Bedrock User Guide: a
/// request may be served in any destination region, so each must be allowed). None: an id the
/// catalogue does not resolve (refused as invalid before any permission matters).
pub(super) fn invoke_resources(raw: &str, region: &str, account: &str) -> Option<Vec<String>> {
    let (m, via) = catalogue::resolve(raw, region).ok()?;
    Some(match via {
        catalogue::Via::OnDemand => vec![catalogue::foundation_model_arn(region, m.id)],
        catalogue::Via::Profile(p) => std::iter::once(catalogue::profile_arn(region, account, p.id))
            .chain(p.destinations.iter().map(|d| catalogue::foundation_model_arn(d, m.id)))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_resolve_as_aws_offers_them() {
        let kind = |id: &str, region: &str| resolve_invoke(id, region).map(|m| m.kind).map_err(|e| e.message);
        assert_eq!(kind("us.stability.stable-image-inpaint-v1:0", "us-west-2"), Ok(Kind::Inpaint));
        assert_eq!(kind("us.stability.stable-outpaint-v1:0", "us-east-2"), Ok(Kind::Outpaint));
        assert_eq!(
            kind("arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1", "us-west-2"),
            Ok(Kind::Core)
        );
        assert_eq!(
            kind(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.stability.stable-image-erase-object-v1:0",
                "us-east-1"
            ),
            Ok(Kind::Erase)
        );
        // The plain id of a profile-only model: Bedrock's own words.
        assert_eq!(
            kind("stability.stable-image-inpaint-v1:0", "us-west-2"),
            Err("Invocation of model ID stability.stable-image-inpaint-v1:0 with on-demand throughput isn’t supported. \
                 Retry your request with the ID or ARN of an inference profile that contains this model."
                .to_owned())
        );
        // Not offered in the region, no such profile, unknown version.
        let invalid = Err("The provided model identifier is invalid.".to_owned());
        assert_eq!(kind("stability.stable-image-core-v1:1", "us-east-1"), invalid);
        assert_eq!(kind("us.stability.stable-image-inpaint-v1:0", "eu-west-1"), invalid);
        assert_eq!(kind("us.stability.stable-image-core-v1:1", "us-west-2"), invalid);
        assert_eq!(kind("stability.stable-image-inpaint-v9:0", "us-west-2"), invalid);
    }

    #[test]
    fn retired_models_are_at_end_of_life_in_every_region() {
        for (id, region) in [
            ("amazon.nova-canvas-v1:0", "us-east-1"),
            ("amazon.titan-image-generator-v2:0", "us-west-2"),
            ("us.amazon.nova-canvas-v1:0", "us-east-1"),
        ] {
            let e = resolve_invoke(id, region).err().expect("refused");
            assert_eq!((e.kind, e.message.as_str()), ("ResourceNotFoundException", catalogue::END_OF_LIFE_MESSAGE));
        }
    }
}
