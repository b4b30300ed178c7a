//! The invocation event, read in one pass.
//!
//! lambda_http reads an event twice: into a `RawValue` (a scan and a copy of the whole event),
//! then again as each event type it knows until one fits. On a 1024×1024 edit (a 2.8 MB event)
//! that is ~2 ms of the function's own time (`cargo bench -p image-edit-lambda --bench overhead`,
//! "parse the event"). [`Event`] parses the JSON once; an API Gateway REST event is taken from the
//! tree, and anything else passes through as lambda_http passes it: its JSON as text (the user
//! pool's trigger events, see [`crate::sign_up`]).

use lambda_http::request::LambdaRequest;
use lambda_http::{LambdaEvent, Request};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The payload type `bootstrap` asks the runtime for.
#[derive(Debug)]
pub struct Event(pub LambdaRequest);

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        // Only REST API events carry `httpMethod` and `requestContext`; such an event is moved
        // out of the tree (its multi-megabyte body is not copied again). One that then does not
        // read as a REST API event is refused, where lambda_http would pass it on to the trigger
        // handler to be refused there: an invocation error either way.
        if value.get("httpMethod").is_some() && value.get("requestContext").is_some() {
            return serde_json::from_value(value)
                .map(|rest| Event(LambdaRequest::ApiGatewayV1(rest)))
                .map_err(D::Error::custom);
        }
        Ok(Event(LambdaRequest::PassThrough(value.to_string())))
    }
}

impl Event {
    /// As lambda_http's adapter takes it.
    pub fn into_lambda(event: LambdaEvent<Event>) -> LambdaEvent<LambdaRequest> {
        LambdaEvent::new(event.payload.0, event.context)
    }

    /// The request the handler sees (what lambda_http's adapter makes of the event, without the
    /// invocation's context).
    pub fn into_request(self) -> Request {
        self.0.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::RequestContext;
    use lambda_http::{Body, RequestExt};
    use serde_json::json;

    fn rest_event(body: &str) -> String {
        json!({
            "resource": "/edits", "path": "/edits", "httpMethod": "POST",
            "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"content-type": ["application/json"]},
            "queryStringParameters": {"limit": "5"}, "multiValueQueryStringParameters": {"limit": ["5"]},
            "pathParameters": null, "stageVariables": null,
            "requestContext": {"resourcePath": "/edits", "httpMethod": "POST", "stage": "prod", "requestId": "r1",
                               "identity": {"sourceIp": "127.0.0.1"}, "authorizer": {"claims": {"sub": "u1"}}},
            "body": body, "isBase64Encoded": false
        })
        .to_string()
    }

    /// The request is the one lambda_http makes of the same event: method, URI, headers, query,
    /// body and the authorizer's claims.
    #[test]
    fn a_rest_event_reads_as_lambda_http_reads_it() {
        let raw = rest_event(r#"{"operation":"inpaint","prompt":"a \"quoted\" car"}"#);
        let ours = serde_json::from_str::<Event>(&raw).expect("event").into_request();
        let theirs = lambda_http::request::from_str(&raw).expect("lambda_http");
        assert_eq!(ours.method(), theirs.method());
        assert_eq!(ours.uri(), theirs.uri());
        assert_eq!(ours.headers(), theirs.headers());
        assert_eq!(ours.query_string_parameters(), theirs.query_string_parameters());
        assert_eq!(ours.body(), theirs.body());
        assert!(matches!(ours.body(), Body::Text(t) if t.contains(r#"a \"quoted\" car"#)));
        let claims = |r: &Request| match r.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(c)) => c.authorizer.fields.clone(),
            other => panic!("not a REST API request: {other:?}"),
        };
        assert_eq!(claims(&ours), claims(&theirs));
    }

    /// A REST API event that does not read as one is an invocation error, not a trigger event.
    #[test]
    fn a_broken_rest_event_is_refused() {
        let raw = json!({"httpMethod": 5, "requestContext": {}, "body": "x"}).to_string();
        assert!(serde_json::from_str::<Event>(&raw).is_err());
    }

    /// A trigger event passes through with its JSON as the body, as lambda_http passes it.
    #[test]
    fn other_events_pass_through_as_json() {
        let raw = json!({"version": "1", "triggerSource": "PreSignUp_SignUp", "userPoolId": "p",
                         "request": {"userAttributes": {"email": "a@example.com"}}, "response": {}})
        .to_string();
        let ours = serde_json::from_str::<Event>(&raw).expect("event").into_request();
        let theirs = lambda_http::request::from_str(&raw).expect("lambda_http");
        assert!(matches!(ours.request_context_ref(), Some(RequestContext::PassThrough)));
        assert!(matches!(theirs.request_context_ref(), Some(RequestContext::PassThrough)));
        let json = |r: &Request| match r.body() {
            Body::Text(t) => serde_json::from_str::<Value>(t).expect("JSON body"),
            other => panic!("not text: {other:?}"),
        };
        assert_eq!(json(&ours), json(&theirs));
    }
}
