//! The image editor's Lambda function: the REST API of docs/openapi.yaml over Amazon Bedrock image
//! models, behind API Gateway (REST, Cognito authorizer).
//!
//! - [`routes`]: the router ([`ROUTES`]) and the handlers; [`App::handle`] answers one event.
//! - [`edit_request`]: validation of `POST /edits` bodies ([`sent`]: a field's value as sent).
//! - [`models`]: one module per model family (request bodies, answers, limits).
//! - [`bedrock`]: the seam to Bedrock ([`bedrock::ImageModel`]) and its error mapping.
//! - [`images`]: decoding, fitting, masks, thumbnails; [`png_stream`]: PNG checks and thumbnails
//!   without a full decode.
//! - [`record`]: one edit's record, the history item; [`records`]: the DynamoDB history.
//! - [`sign_up`]: the user pool's pre sign-up trigger (allowed e-mail domains).
//! - [`event`]: the invocation event, parsed once.
//! - [`config`], [`errors`], [`metrics`], [`cors`], [`memory`].

pub mod bedrock;
pub mod config;
pub mod cors;
pub mod edit_request;
pub mod errors;
pub mod event;
pub mod idempotency;
pub mod images;
pub mod memory;
pub mod metrics;
pub mod models;
pub mod png_stream;
pub mod quota;
pub mod record;
pub mod records;
pub mod results;
pub mod routes;
pub mod sent;
pub mod sign_up;

pub use routes::{App, ROUTES, capabilities_document};
