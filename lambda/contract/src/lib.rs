//! The contract between the editing function (`lambda/`) and the provisioner, written once. Both
//! crates read these constants; nothing here depends on anything, so it costs neither a compile
//! nor a dependency. The HTTP shapes are docs/openapi.yaml's (the web app's types are checked
//! against it); the function's answers per family are the web app's fixtures
//! (provisioner/tests/it/contract.rs).
//!
//! It also holds the Bedrock model [`catalogue`] (where and how AWS offers each image model) and
//! the [`REGIONS`] a stack may use, which the provisioner and the local cloud's Bedrock and API
//! Gateway stand-ins read.

pub mod catalogue;

/// The regions a stack may use: those where at least one model family is offered (see
/// [`catalogue`]; its tests keep the two equal). The gateway stand-in looks for an API id in each.
pub const REGIONS: &[&str] = &["us-east-1", "us-east-2", "us-west-2"];

/// One route of the REST API: served by the function, created by the provisioner (behind the
/// Cognito authorizer, with an OPTIONS preflight per resource), documented in docs/openapi.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// What the function does for it: its dispatch matches this exhaustively, so a route added
    /// here does not compile until it is handled.
    pub endpoint: Endpoint,
}

/// The function's handlers, one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `POST /`: the seed app's request shape.
    Seed,
    Capabilities,
    Usage,
    ListEdits,
    CreateEdit,
    GetEdit,
    DeleteEdit,
}

/// Every route, in the order the provisioner creates them.
pub const ROUTES: &[Route] = &[
    Route { method: "POST", path: "/", endpoint: Endpoint::Seed },
    Route { method: "GET", path: "/capabilities", endpoint: Endpoint::Capabilities },
    Route { method: "GET", path: "/usage", endpoint: Endpoint::Usage },
    Route { method: "GET", path: "/edits", endpoint: Endpoint::ListEdits },
    Route { method: "POST", path: "/edits", endpoint: Endpoint::CreateEdit },
    Route { method: "GET", path: "/edits/{id}", endpoint: Endpoint::GetEdit },
    Route { method: "DELETE", path: "/edits/{id}", endpoint: Endpoint::DeleteEdit },
];

/// The route of `method` on the template `path`, if the API has one.
pub fn route(method: &str, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// The request headers browsers may send cross-origin: the app's (`Content-Type`,
/// `Authorization`, `Idempotency-Key`) and the seed page's, which also sends the two
/// `Access-Control-*` names. API Gateway's preflights and gateway responses and the function's
/// answers all allow these.
pub const CORS_ALLOW_HEADERS: &str =
    "Content-Type,Authorization,Idempotency-Key,Access-Control-Allow-Origin,Access-Control-Allow-Headers";

/// A short, stable, non-reversible tag of a user (FNV-1a 64 of the Cognito `sub`, 16 hex digits):
/// the `user` field of the function's log lines, and how `provision watch` names the busiest users
/// of the day — enough to correlate the two, never the identity itself.
pub fn user_hash(sub: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sub.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The CloudWatch namespace of the function's own metrics: the function writes its EMF lines in it
/// (lambda/src/metrics.rs), and the provisioner's alarms, dashboard and `provision watch` read it.
/// Written once so that a rename cannot leave the readers looking at an empty namespace.
pub const METRICS_NAMESPACE: &str = "ImageEditor";

/// The request header that makes `POST /edits` safe to send again (docs/openapi.yaml).
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Amplify Hosting's default domain for a branch, as the provisioner computes the app's origin and
/// the local cloud's hosting serves it.
pub mod amplify {
    /// The host label of `branch` in `https://<label>.<appId>.amplifyapp.com`: Amplify turns `/`
    /// and `.` into `-` (`release-6.2` is served at `release-6-2.…`, aws-amplify/amplify-hosting#602;
    /// `feature/x` at `feature-x.…`, #739), and browsers send the host in lower case, so the
    /// origin a page reports is lower case too.
    pub fn branch_label(branch: &str) -> String {
        branch.chars().map(|c| if c == '/' || c == '.' { '-' } else { c.to_ascii_lowercase() }).collect()
    }

    /// Why `branch` cannot name the app's branch, or `None`: its label must be a DNS label
    /// (letters, digits and `-`, not at either end, at most 63 characters: RFC 1035; a longer one
    /// gets an address no browser can reach, aws-amplify/amplify-hosting#208).
    pub fn branch_problem(branch: &str) -> Option<String> {
        let label = branch_label(branch);
        if branch.is_empty() || !branch.chars().all(|c| c.is_ascii_alphanumeric() || "-./".contains(c)) {
            return Some("use letters, digits, '-', '.' and '/' only".to_owned());
        }
        if label.len() > 63 {
            return Some(format!("its host name `{label}` is {} characters; at most 63 are reachable", label.len()));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("its host name `{label}` may not start or end with '-' (or '.' or '/')"));
        }
        None
    }
}

/// Lambda's concurrency, as the provisioner checks it and the local cloud enforces it.
pub mod lambda_concurrency {
    /// The default quota of concurrent executions per account and Region ("Lambda quotas");
    /// new accounts often get 10.
    pub const DEFAULT_ACCOUNT: u32 = 1000;
    /// Service Quotas' code of that quota, for the increase link.
    pub const QUOTA_CODE: &str = "L-B99A9384";

    /// What an account must keep unreserved: 100 ("as long as you leave at least 100 simultaneous
    /// executions unreserved", PutFunctionConcurrency), or all of a smaller account's limit
    /// (observed: "…decreases account's UnreservedConcurrentExecution below its minimum value of
    /// [10]" in an account of 10, "[50]" in one of 50).
    pub fn minimum_unreserved(account: u32) -> u32 {
        account.min(100)
    }

    /// Where to ask for more, in `region`.
    pub fn increase_url(region: &str) -> String {
        format!("https://{region}.console.aws.amazon.com/servicequotas/home/services/lambda/quotas/{QUOTA_CODE}")
    }
}

/// The function's environment: written by the provisioner, read once at cold start (a missing or
/// malformed variable stops the cold start, naming it).
pub mod env {
    /// DynamoDB table of edit records and daily counters.
    pub const TABLE_NAME: &str = "TABLE_NAME";
    /// Region of the bedrock-runtime client.
    pub const BEDROCK_REGION: &str = "BEDROCK_REGION";
    /// Model family of the stack: `stability` (the only live one; see `catalogue::RETIRED`).
    pub const MODEL_FAMILY: &str = "MODEL_FAMILY";
    /// JSON object operation → model id (or `us.` inference profile id).
    pub const MODEL_IDS: &str = "MODEL_IDS";
    /// Comma-separated origins CORS allows.
    pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
    /// Images one user may make per UTC day (`limits.edits_per_user_per_day`).
    pub const QUOTA_IMAGES_PER_USER_PER_DAY: &str = "QUOTA_IMAGES_PER_USER_PER_DAY";
    /// Images the whole stack may make per UTC day (`limits.edits_per_day`).
    pub const QUOTA_IMAGES_PER_DAY: &str = "QUOTA_IMAGES_PER_DAY";
    /// Comma-separated e-mail domains allowed to sign themselves up (`auth.allowed_email_domains`);
    /// set only when the user pool's pre sign-up trigger is the function.
    pub const ALLOWED_EMAIL_DOMAINS: &str = "ALLOWED_EMAIL_DOMAINS";
    /// The function's log level.
    pub const RUST_LOG: &str = "RUST_LOG";
    /// The S3 bucket the function keeps each made image in (`results::bucket_name`).
    pub const RESULTS_BUCKET: &str = "RESULTS_BUCKET";
    /// Days the bucket keeps an image (`history.keep_days`); 0 keeps none (thumbnails only).
    pub const RESULTS_KEEP_DAYS: &str = "RESULTS_KEEP_DAYS";
}

/// Kept results: the stack's S3 bucket and where in it the function writes. The provisioner
/// grants, expires and empties by the same prefix the function writes under.
pub mod results {
    /// Every kept image is under `results/<Cognito sub>/<edit id>/`; the role may write only here
    /// and the lifecycle rule expires only here.
    pub const PREFIX: &str = "results/";

    /// The bucket's name: bucket names are global, so the account and region make it unique
    /// (at most 24 + 9 + 12 + 1 + 14 = 60 of S3's 63 characters).
    pub fn bucket_name(stack: &str, account: &str, region: &str) -> String {
        format!("{stack}-results-{account}-{region}")
    }

    /// The key of image `n` (0-based) of edit `id` of user `sub`.
    pub fn key(sub: &str, id: &str, n: usize, extension: &str) -> String {
        format!("{PREFIX}{sub}/{id}/{n}.{extension}")
    }

    /// The longest `history.keep_days`: a year (the lifecycle rule takes any positive number; the
    /// stack file and the function keep it sensible, with the same bound).
    pub const MAX_KEEP_DAYS: u32 = 365;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_hash_is_stable_and_not_the_sub() {
        assert_eq!(user_hash("abc"), user_hash("abc"));
        assert_ne!(user_hash("abc"), "abc");
        // FNV-1a 64 of the empty string is its offset basis: the function's log lines and
        // `provision watch` agree on the algorithm, not only on the shape.
        assert_eq!(user_hash(""), "cbf29ce484222325");
        assert_eq!(user_hash("a"), "af63dc4c8601ec8c");
    }
}
