//! The Bedrock image models the project can use, as AWS offers them: in which regions each model
//! can be invoked with its plain id (in-region, on demand), which cross-region inference profiles
//! carry it (from which source regions, to which destination regions), and its lifecycle.
//!
//! This is the one place for these facts. The provisioner reads it to pick the invocable id of each
//! default, to refuse a family or a model id in a region where AWS does not offer it, and to
//! render the IAM grants of `synth`; the Bedrock stand-in (`localcloud`) reads it to refuse what
//! AWS refuses (a plain id of a profile-only model, a model or profile outside its regions) and to
//! answer ListFoundationModels / GetFoundationModel / GetInferenceProfile; docs/setup.md shows it
//! (a test keeps that table equal to this one). It lives in the contract crate, which depends on
//! nothing, so that both read it without the provisioner depending on the local cloud.
//!
//! On AWS, `provision up` does not trust the destination regions below: it reads them with
//! GetInferenceProfile and grants exactly what AWS answers. They serve `synth` (which makes no
//! calls) and the local cloud.
//!
//! Sources: each entry names the model card of the Bedrock user guide it was taken from
//! (<https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards.html>: "Regional
//! availability", "Inference profile IDs", lifecycle), and "Supported Regions and models for
//! inference profiles" (…/userguide/inference-profiles-support.html). Checked 2026-12.

/// A model's lifecycle, as GetFoundationModel's `modelLifecycle` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    Active,
    /// "New customers can't use Legacy models and existing customers may lose access to Legacy
    /// models due to inactivity"; AWS retires it at `eol` (…/userguide/model-lifecycle.html).
    Legacy {
        eol: &'static str,
    },
}

impl Lifecycle {
    pub fn status(self) -> &'static str {
        match self {
            Lifecycle::Active => "ACTIVE",
            Lifecycle::Legacy { .. } => "LEGACY",
        }
    }
}

/// A system-defined cross-region inference profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// e.g. `us.stability.stable-image-inpaint-v1:0`.
    pub id: &'static str,
    /// Regions from which the profile may be invoked.
    pub sources: &'static [&'static str],
    /// Regions the profile routes requests to (GetInferenceProfile's `models[].modelArn`).
    pub destinations: &'static [&'static str],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Model {
    pub id: &'static str,
    /// The project's model family whose request schema the model speaks.
    pub family: &'static str,
    pub name: &'static str,
    pub provider: &'static str,
    /// Regions where the plain id is invocable (`inferenceTypesSupported` has ON_DEMAND there).
    pub on_demand: &'static [&'static str],
    pub profiles: &'static [Profile],
    pub lifecycle: Lifecycle,
    /// A third-party model sold through AWS Marketplace: an account needs a model access
    /// agreement (a subscription) before anyone may invoke it, which `provision up` makes
    /// ("Request access to models", …/userguide/model-access.html: "When you invoke a third-party
    /// model for the first time in your account, Amazon Bedrock automatically initiates the
    /// subscription process", which needs `aws-marketplace:Subscribe` on the caller and a valid
    /// payment method). Every Stability AI model is one.
    pub marketplace: bool,
    /// On-demand list price of one image, USD (see [`PRICES_AS_OF`]).
    pub price_usd: f64,
    /// The page these facts come from.
    pub source: &'static str,
}

/// When the prices were read, and where ("Amazon Bedrock pricing", Stability AI, on demand, per
/// image, the US regions). They change; the provisioner shows spend as an estimate from them.
pub const PRICES_AS_OF: &str = "2026-12";
pub const PRICES_SOURCE: &str = "https://aws.amazon.com/bedrock/pricing/";

/// The three US regions of the Stability AI Image Services and of their `us.` profiles.
const US_STABILITY: &[&str] = &["us-east-1", "us-east-2", "us-west-2"];

/// A Stability AI Image Service: no in-region access anywhere, one `us.` profile whose source and
/// destination regions are the three US regions ("Regional availability by models",
/// …/userguide/models-region-compatibility.html: In-Region "not-supported", Geo "supported",
/// Global "not-supported" in us-east-1, us-east-2 and us-west-2).
macro_rules! stability_service {
    ($id:literal, $name:literal, $card:literal, $price:literal) => {
        Model {
            id: $id,
            family: "stability",
            name: $name,
            provider: "Stability AI",
            on_demand: &[],
            profiles: &[Profile { id: concat!("us.", $id), sources: US_STABILITY, destinations: US_STABILITY }],
            lifecycle: Lifecycle::Active,
            marketplace: true,
            price_usd: $price,
            source: concat!(
                "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-stability-ai-",
                $card,
                ".html"
            ),
        }
    };
}

/// A Stability model offered in-region in us-west-2 only, with no Geo or Global profile (same page:
/// In-Region "supported" in us-west-2, Geo and Global "not-supported").
macro_rules! stability_in_oregon {
    ($id:literal, $name:literal, $price:literal) => {
        Model {
            id: $id,
            family: "stability",
            name: $name,
            provider: "Stability AI",
            on_demand: &["us-west-2"],
            profiles: &[],
            lifecycle: Lifecycle::Active,
            marketplace: true,
            price_usd: $price,
            source: "https://docs.aws.amazon.com/bedrock/latest/userguide/models-region-compatibility.html",
        }
    };
}

/// Every model the project knows: the thirteen Stability AI Image Services ("Stability AI Image
/// Services", …/userguide/stable-image-services.html: "Subscribing to any edit or control
/// Stability AI Image Service automatically enrolls you in all thirteen") and the three
/// text-to-image models. Prices per image as listed on the pricing page (Image Services $0.07,
/// Outpaint $0.06, Style Transfer $0.08, Fast/Conservative/Creative Upscale $0.03/$0.40/$0.60,
/// Core $0.04, Ultra $0.14, SD3.5 Large $0.08).
pub const MODELS: &[Model] = &[
    stability_service!("stability.stable-image-inpaint-v1:0", "Stable Image Inpaint", "stable-image-inpaint", 0.07),
    stability_service!("stability.stable-outpaint-v1:0", "Stable Image Outpaint", "stable-image-outpaint", 0.06),
    stability_service!(
        "stability.stable-image-search-replace-v1:0",
        "Stable Image Search and Replace",
        "stable-image-search-and-replace",
        0.07
    ),
    stability_service!(
        "stability.stable-image-search-recolor-v1:0",
        "Stable Image Search and Recolor",
        "stable-image-search-and-recolor",
        0.07
    ),
    stability_service!(
        "stability.stable-image-erase-object-v1:0",
        "Stable Image Erase Object",
        "stable-image-erase-object",
        0.07
    ),
    stability_service!(
        "stability.stable-image-remove-background-v1:0",
        "Stable Image Remove Background",
        "stable-image-remove-background",
        0.07
    ),
    stability_service!(
        "stability.stable-image-control-sketch-v1:0",
        "Stable Image Control Sketch",
        "stable-image-control-sketch",
        0.07
    ),
    stability_service!(
        "stability.stable-image-control-structure-v1:0",
        "Stable Image Control Structure",
        "stable-image-control-structure",
        0.07
    ),
    stability_service!(
        "stability.stable-image-style-guide-v1:0",
        "Stable Image Style Guide",
        "stable-image-style-guide",
        0.07
    ),
    stability_service!(
        "stability.stable-style-transfer-v1:0",
        "Stable Image Style Transfer",
        "stable-image-style-transfer",
        0.08
    ),
    stability_service!(
        "stability.stable-fast-upscale-v1:0",
        "Stable Image Fast Upscale",
        "stable-image-fast-upscale",
        0.03
    ),
    stability_service!(
        "stability.stable-conservative-upscale-v1:0",
        "Stable Image Conservative Upscale",
        "stable-image-conservative-upscale",
        0.40
    ),
    stability_service!(
        "stability.stable-creative-upscale-v1:0",
        "Stable Image Creative Upscale",
        "stable-image-creative-upscale",
        0.60
    ),
    stability_in_oregon!("stability.stable-image-core-v1:1", "Stable Image Core 1.1", 0.04),
    stability_in_oregon!("stability.stable-image-ultra-v1:1", "Stable Image Ultra 1.1", 0.14),
    stability_in_oregon!("stability.sd3-5-large-v1:0", "Stable Diffusion 3.5 Large", 0.08),
];

/// A model AWS has retired. Its request code is gone from the project; the fact stays, so that a
/// stack file still naming it (by family or by id) is refused with the date and what to use
/// instead, rather than deployed to fail on every edit. Bedrock answers an invocation of it with
/// `ResourceNotFoundException`: "This model version has reached the end of its life. Please refer
/// to the AWS documentation for more details." (quoted in awsdocs/aws-doc-sdk-examples#6403 and
/// aws-samples/amazon-bedrock-ai-karaoke#21; …/userguide/model-lifecycle.html: "EOL: the model is
/// no longer available for use").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retired {
    pub id: &'static str,
    /// The `models.family` that deployed it.
    pub family: &'static str,
    pub name: &'static str,
    /// The end-of-life date, YYYY-MM-DD.
    pub eol: &'static str,
    /// Where stacks of it were deployed (in-region): `provision down` still reaches them there.
    pub regions: &'static [&'static str],
    /// The model card that announced it.
    pub source: &'static str,
    /// What to use instead, in the stack file's terms.
    pub instead: &'static str,
}

/// Bedrock's message for a model past its end of life (see [`Retired`]).
pub const END_OF_LIFE_MESSAGE: &str =
    "This model version has reached the end of its life. Please refer to the AWS documentation for more details.";

const USE_STABILITY: &str =
    "`models.family: stability` (the Stability AI Image Services; remove `models.ids` entries naming the old model)";

/// The image models the project once shipped and AWS has since retired.
pub const RETIRED: &[Retired] = &[
    // The model card: "Model lifecycle: Legacy", "Model EOL date: June 30, 2026".
    Retired {
        id: "amazon.titan-image-generator-v2:0",
        family: "titan",
        name: "Titan Image Generator G1 v2",
        eol: "2026-06-30",
        regions: &["us-east-1", "us-west-2"],
        source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-amazon-titan-image-generator-g1-v2.html",
        instead: USE_STABILITY,
    },
    // "Legacy (EOL: 2026-09-30)" in each of its three regions.
    Retired {
        id: "amazon.nova-canvas-v1:0",
        family: "nova",
        name: "Nova Canvas",
        eol: "2026-09-30",
        regions: &["us-east-1", "eu-west-1", "ap-northeast-1"],
        source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-amazon-nova-canvas.html",
        instead: USE_STABILITY,
    },
];

impl std::fmt::Display for Retired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (`{}`) reached end of life on {} and Bedrock no longer serves it ({}); use {} instead",
            self.name, self.id, self.eol, self.source, self.instead
        )
    }
}

/// The retired model behind `id`: its plain id, its ARN, or any inference profile of it
/// (`us.amazon.nova-canvas-v1:0`).
pub fn retired(id: &str) -> Option<&'static Retired> {
    let id = strip_arn(id);
    RETIRED.iter().find(|r| id == r.id || id.strip_suffix(r.id).is_some_and(|geo| geo.ends_with('.')))
}

/// The model a retired `models.family` deployed.
pub fn retired_family(family: &str) -> Option<&'static Retired> {
    RETIRED.iter().find(|r| r.family.eq_ignore_ascii_case(family.trim()))
}

/// Why `id` may not be deployed on `today` (YYYY-MM-DD): a retired model, or a catalogue model
/// whose Legacy end-of-life date has passed. The message names the model, the date, its model
/// card and what to use instead.
pub fn end_of_life(id: &str, today: &str) -> Option<String> {
    if let Some(r) = retired(id) {
        return Some(r.to_string());
    }
    let m = model(strip_arn(id)).or_else(|| profile(strip_arn(id)).map(|(m, _)| m))?;
    match m.lifecycle {
        Lifecycle::Legacy { eol } if today > eol => Some(format!(
            "{} (`{}`) reached end of life on {eol} ({}); choose another model of the family",
            m.name, m.id, m.source
        )),
        _ => None,
    }
}

/// How a model id is invoked in a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The plain foundation-model id, in-region.
    OnDemand,
    /// A cross-region inference profile.
    Profile(&'static Profile),
}

/// Why AWS refuses an id in a region; the messages are AWS's own where AWS has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a model or profile id AWS knows (or one this project does not use).
    Unknown(String),
    /// The plain id of a model that is offered only through inference profiles here. The message
    /// is Bedrock's ValidationException text.
    ProfileOnly { id: String, profile: &'static str },
    /// The model (or profile) is not offered in this region.
    NotInRegion { id: String, region: String, offered: Vec<String> },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Unknown(id) => write!(f, "`{id}` is not a Bedrock image model this project supports"),
            Refusal::ProfileOnly { id, .. } => write!(
                f,
                "Invocation of model ID {id} with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
            ),
            Refusal::NotInRegion { id, region, offered } => {
                write!(f, "`{id}` is not offered in {region}; it is offered in: {}", offered.join(", "))
            }
        }
    }
}

impl std::error::Error for Refusal {}

pub fn model(id: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.id == id)
}

/// The catalogue models that `ids` (model or profile ids, or ARNs) invoke from `region`, each once,
/// in the order first named; ids AWS would refuse there are left out.
pub fn models_of<'a>(ids: impl IntoIterator<Item = &'a str>, region: &str) -> Vec<&'static Model> {
    let mut out: Vec<&'static Model> = Vec::new();
    for id in ids {
        if let Ok((m, _)) = resolve(id, region)
            && !out.iter().any(|o| o.id == m.id)
        {
            out.push(m);
        }
    }
    out
}

/// The model and profile of a profile id (`us.stability.…`).
pub fn profile(id: &str) -> Option<(&'static Model, &'static Profile)> {
    MODELS.iter().find_map(|m| m.profiles.iter().find(|p| p.id == id).map(|p| (m, p)))
}

impl Model {
    /// Every region from which the model can be invoked, one way or the other, sorted.
    pub fn regions(&self) -> Vec<&'static str> {
        let mut r: Vec<&'static str> =
            self.on_demand.iter().chain(self.profiles.iter().flat_map(|p| p.sources.iter())).copied().collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// The id to invoke this model with from `region`: the plain id where it is on demand, else the
    /// profile whose source regions include `region`.
    pub fn invocable_id(&self, region: &str) -> Option<&'static str> {
        if self.on_demand.contains(&region) {
            return Some(self.id);
        }
        self.profiles.iter().find(|p| p.sources.contains(&region)).map(|p| p.id)
    }

    /// `inferenceTypesSupported` in `region`, as ListFoundationModels reports it.
    pub fn inference_types(&self, region: &str) -> Vec<&'static str> {
        let mut t = Vec::new();
        if self.on_demand.contains(&region) {
            t.push("ON_DEMAND");
        }
        if self.profiles.iter().any(|p| p.sources.contains(&region)) {
            t.push("INFERENCE_PROFILE");
        }
        t
    }
}

/// What invoking `id` (a model id, a profile id, or either's ARN) from `region` reaches, or how
/// AWS refuses it.
pub fn resolve(id: &str, region: &str) -> Result<(&'static Model, Via), Refusal> {
    let id = strip_arn(id);
    if let Some(m) = model(id) {
        if m.on_demand.contains(&region) {
            return Ok((m, Via::OnDemand));
        }
        if let Some(p) = m.profiles.iter().find(|p| p.sources.contains(&region)) {
            return Err(Refusal::ProfileOnly { id: id.to_owned(), profile: p.id });
        }
        return Err(not_in_region(id, region, m.regions()));
    }
    if let Some((m, p)) = profile(id) {
        if p.sources.contains(&region) {
            return Ok((m, Via::Profile(p)));
        }
        let mut offered = p.sources.to_vec();
        offered.sort_unstable();
        return Err(not_in_region(id, region, offered));
    }
    Err(Refusal::Unknown(id.to_owned()))
}

fn not_in_region(id: &str, region: &str, offered: Vec<&str>) -> Refusal {
    Refusal::NotInRegion {
        id: id.to_owned(),
        region: region.to_owned(),
        offered: offered.into_iter().map(str::to_owned).collect(),
    }
}

/// The model or profile id inside a `foundation-model/` or `inference-profile/` ARN; other
/// strings unchanged.
pub fn strip_arn(raw: &str) -> &str {
    if !raw.starts_with("arn:") {
        return raw;
    }
    let resource = raw.splitn(6, ':').nth(5).unwrap_or(raw);
    resource
        .strip_prefix("foundation-model/")
        .or_else(|| resource.strip_prefix("inference-profile/"))
        .unwrap_or(resource)
}

/// The ARN of a foundation model (no account: foundation models belong to no account).
pub fn foundation_model_arn(region: &str, model_id: &str) -> String {
    format!("arn:aws:bedrock:{region}::foundation-model/{model_id}")
}

pub fn profile_arn(region: &str, account: &str, profile_id: &str) -> String {
    format!("arn:aws:bedrock:{region}:{account}:inference-profile/{profile_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_regions_sorted_known() {
        let mut ids: Vec<&str> = MODELS.iter().map(|m| m.id).collect();
        ids.extend(MODELS.iter().flat_map(|m| m.profiles.iter().map(|p| p.id)));
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids");
        for m in MODELS {
            for r in m.on_demand.iter().chain(m.profiles.iter().flat_map(|p| p.sources.iter().chain(p.destinations))) {
                assert!(crate::REGIONS.contains(r), "{}: {r} is not in REGIONS", m.id);
            }
            for p in m.profiles {
                assert!(p.id.ends_with(m.id), "{} does not carry {}", p.id, m.id);
                assert!(!p.sources.is_empty() && !p.destinations.is_empty());
            }
        }
    }

    #[test]
    fn the_stack_regions_are_where_models_are_offered() {
        let mut offered: Vec<&str> = MODELS.iter().flat_map(|m| m.regions()).collect();
        offered.sort_unstable();
        offered.dedup();
        assert_eq!(offered, crate::REGIONS);
    }

    #[test]
    fn profile_only_models_are_refused_by_their_plain_id() {
        let inpaint = "stability.stable-image-inpaint-v1:0";
        assert_eq!(
            resolve(inpaint, "us-west-2"),
            Err(Refusal::ProfileOnly { id: inpaint.into(), profile: "us.stability.stable-image-inpaint-v1:0" })
        );
        assert!(matches!(resolve("us.stability.stable-image-inpaint-v1:0", "us-east-2"), Ok((_, Via::Profile(_)))));
        assert!(matches!(
            resolve("us.stability.stable-image-inpaint-v1:0", "eu-west-1"),
            Err(Refusal::NotInRegion { .. })
        ));
        assert!(matches!(resolve("stability.stable-image-core-v1:1", "us-east-1"), Err(Refusal::NotInRegion { .. })));
        assert!(matches!(resolve("stability.stable-image-core-v1:1", "us-west-2"), Ok((_, Via::OnDemand))));
        assert!(matches!(resolve("eu.stability.stable-image-inpaint-v1:0", "eu-west-1"), Err(Refusal::Unknown(_))));
    }

    #[test]
    fn refusal_messages() {
        assert_eq!(
            Refusal::Unknown("x.y-v1:0".into()).to_string(),
            "`x.y-v1:0` is not a Bedrock image model this project supports"
        );
        assert_eq!(
            resolve("stability.stable-image-inpaint-v1:0", "us-east-1").map_err(|e| e.to_string()),
            Err("Invocation of model ID stability.stable-image-inpaint-v1:0 with on-demand throughput isn’t supported. \
                 Retry your request with the ID or ARN of an inference profile that contains this model."
                .to_owned())
        );
        assert_eq!(
            resolve("us.stability.stable-outpaint-v1:0", "eu-west-1").map_err(|e| e.to_string()),
            Err("`us.stability.stable-outpaint-v1:0` is not offered in eu-west-1; it is offered in: us-east-1, \
                 us-east-2, us-west-2"
                .to_owned())
        );
    }

    #[test]
    fn arns_resolve_like_ids() {
        let m = MODELS[0];
        let region = m.regions()[0];
        let id = m.invocable_id(region).expect("invocable where offered");
        let arn = if id == m.id { foundation_model_arn(region, id) } else { profile_arn(region, "123456789012", id) };
        assert_eq!(resolve(&arn, region).map(|r| r.0.id), Ok(m.id));
    }

    #[test]
    fn retired_models_are_known_by_family_id_arn_and_profile() {
        for id in [
            "amazon.nova-canvas-v1:0",
            "us.amazon.nova-canvas-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-canvas-v1:0",
        ] {
            assert_eq!(retired(id).map(|r| r.eol), Some("2026-09-30"), "{id}");
        }
        assert_eq!(retired_family("Titan").map(|r| r.id), Some("amazon.titan-image-generator-v2:0"));
        assert!(retired("xamazon.nova-canvas-v1:0").is_none() && retired_family("stability").is_none());
        let why = end_of_life("amazon.titan-image-generator-v2:0", "2026-12-05").expect("retired");
        assert!(
            why.starts_with(
                "Titan Image Generator G1 v2 (`amazon.titan-image-generator-v2:0`) reached end of life on 2026-06-30"
            ) && why.contains("model-card-amazon-titan-image-generator-g1-v2.html")
                && why.contains("models.family: stability"),
            "{why}"
        );
        assert_eq!(end_of_life("us.stability.stable-image-inpaint-v1:0", "2026-12-05"), None);
        for r in RETIRED {
            assert!(model(r.id).is_none(), "{} is both live and retired", r.id);
        }
    }
}
