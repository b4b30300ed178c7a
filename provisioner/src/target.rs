//! Where a command acts: AWS, or the local cloud. Built once in `main` from `--local` and the
//! running local cloud, then passed down (in `Ctx` and in [`crate::aws::Aws`]) — never through
//! the process environment, so nothing has to mutate it while threads run.

use std::collections::BTreeMap;

use crate::local::LocalCloud;

/// The SDK's general endpoint variable; `AWS_ENDPOINT_URL_<SERVICE>` name one service's.
pub const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";
/// The API Gateway data plane's (see [`Target::gateway`]).
pub const GATEWAY_VAR: &str = "AWS_ENDPOINT_URL_EXECUTE_API";

#[derive(Debug, Clone, Default)]
pub enum Target {
    /// AWS through the standard chain: credentials, region and endpoints as the SDK finds them
    /// (it honours `AWS_ENDPOINT_URL[_SERVICE]` itself).
    #[default]
    Aws,
    /// The local cloud (`--local`): every client is pointed at it explicitly, with the local
    /// cloud's credentials. `None` when it is not running: only `down` (nothing to delete) and
    /// `synth` (no calls) go on then, and they make no call.
    Local(Option<Endpoints>),
}

/// The local cloud's endpoints, by the SDK variable that would name them
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_AMPLIFY`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints(BTreeMap<String, String>);

impl Endpoints {
    pub fn of(cloud: &LocalCloud) -> Endpoints {
        Endpoints(cloud.endpoints().into_iter().collect())
    }

    /// The endpoint of the service whose SDK variable is `var`, else the general one.
    pub fn get(&self, var: &str) -> Option<&str> {
        self.0.get(var).or_else(|| self.0.get(ENDPOINT_VAR)).map(String::as_str)
    }
}

impl Target {
    pub fn local(cloud: Option<&LocalCloud>) -> Target {
        Target::Local(cloud.map(Endpoints::of))
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Target::Local(_))
    }

    /// The endpoint a service is reached at when it is not AWS's own: the local cloud's, or
    /// on AWS what `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL` say (as the SDK reads
    /// them; the gateway's `EXECUTE_API` and the web app's Cognito endpoint follow the same
    /// convention). None: AWS's own endpoint.
    pub fn endpoint(&self, var: &str) -> Option<String> {
        match self {
            Target::Local(Some(e)) => e.get(var).map(str::to_owned),
            Target::Local(None) => None,
            Target::Aws => {
                [var, ENDPOINT_VAR].into_iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            }
        }
    }

    /// Where deployed stages are served when not at AWS's `execute-api` hosts: the local
    /// cloud's gateway, or `AWS_ENDPOINT_URL_EXECUTE_API` (this project's convention; no SDK
    /// reads it, so it has no fallback to the general endpoint).
    pub fn gateway(&self) -> Option<String> {
        match self {
            Target::Local(e) => e.as_ref().and_then(|e| e.0.get(GATEWAY_VAR)).cloned(),
            Target::Aws => std::env::var(GATEWAY_VAR).ok().filter(|s| !s.is_empty()),
        }
    }

    /// `export` lines that point the `aws` CLI (or any SDK) at the same place.
    pub fn exports(&self) -> Vec<String> {
        match self {
            Target::Local(Some(e)) => {
                e.0.iter()
                    .map(|(k, v)| format!("export {k}={v}"))
                    .chain(["export AWS_ACCESS_KEY_ID=local", "export AWS_SECRET_ACCESS_KEY=local"].map(str::to_owned))
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_without_its_own_endpoint_uses_the_general_one() {
        let e = Endpoints(BTreeMap::from([
            (ENDPOINT_VAR.to_owned(), "http://127.0.0.1:5000".to_owned()),
            ("AWS_ENDPOINT_URL_AMPLIFY".to_owned(), "http://127.0.0.1:4510".to_owned()),
        ]));
        let t = Target::Local(Some(e));
        assert_eq!(t.endpoint("AWS_ENDPOINT_URL_AMPLIFY").as_deref(), Some("http://127.0.0.1:4510"));
        assert_eq!(t.endpoint("AWS_ENDPOINT_URL_DYNAMODB").as_deref(), Some("http://127.0.0.1:5000"));
        assert!(t.exports().iter().any(|l| l == "export AWS_ENDPOINT_URL_AMPLIFY=http://127.0.0.1:4510"));
        assert_eq!(Target::Local(None).endpoint("AWS_ENDPOINT_URL"), None);
        // The gateway is no SDK service: never the general endpoint.
        assert_eq!(t.gateway(), None);
    }
}
