//! `ApiError`: every refusal the API gives, as an HTTP status and a JSON body naming what
//! was wrong; and the extractors (JSON body, path, query) whose own failures take the same
//! shape, so no client ever parses a plain-text error.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::domain::Rejection;
use crate::engine::EngineError;

/// Largest JSON body: every resource fits in a fraction of it.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
/// Largest CSV upload: a few thousand rows.
pub const MAX_CSV_BYTES: usize = 1024 * 1024;

/// One bad cell of a CSV upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// The line of the file (1 is the header).
    pub row: usize,
    /// The column, by its header name.
    pub column: String,
    /// What was wrong.
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// A stable, machine-readable code (`invalid_field`, `forbidden`, `not_found`...).
    pub code: String,
    /// What was wrong, in words.
    pub message: String,
    /// The field (JSON path, query or path parameter, header) that was wrong, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For CSV uploads: every bad cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<RowError>>,
    /// For rate limits: when to try again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// For a refused rating: the user-end protocol's code (10150 to 10154).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_code: Option<u32>,
    /// For a refused session service flow: every error, each naming its node and field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<crate::domain::flow::FlowError>>,
}

/// Why a request was refused. Every variant changes nothing.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field is missing, of the wrong type, or out of range.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What was wrong.
        message: String,
    },
    /// A CSV upload has bad rows; none was imported.
    #[error("{message}")]
    InvalidRows {
        /// What was wrong, in short.
        message: String,
        /// Every bad cell.
        rows: Vec<RowError>,
    },
    /// A session service flow does not validate; nothing was saved.
    #[error("{message}")]
    InvalidFlow {
        /// What was wrong, in short.
        message: String,
        /// Every error, each naming its node and field.
        errors: Vec<crate::domain::flow::FlowError>,
    },
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// A credential refused for a reason the client acts on, with its own code
    /// (`sdk_token_expired`...).
    #[error("{message}")]
    Refused {
        /// The code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// Valid credentials without the right to do this.
    #[error("{message}")]
    Forbidden {
        /// `forbidden`, `password_change_required`, `forced_offline`...
        code: &'static str,
        /// Why.
        message: String,
    },
    /// The thing named does not exist in the caller's app.
    #[error("{0} not found")]
    NotFound(String),
    /// The request does not fit the current state.
    #[error("{0}")]
    Conflict(String),
    /// The body is over its limit.
    #[error("the body is over the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// An uploaded file (the field named) is over its limit.
    #[error("{field} {message}")]
    FieldTooLarge {
        /// The field: `file`.
        field: &'static str,
        /// The size and the limit.
        message: String,
    },
    /// The body is not of a type this endpoint takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts.
    #[error("{message}")]
    TooManyRequests {
        /// When to try again.
        retry_after_secs: u64,
        /// Which limit.
        message: String,
    },
    /// The engine or the log cannot take the change now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The user-end protocol refused a request with one of its codes (a rating, src 10).
    #[error("{message}")]
    Protocol {
        /// The protocol's code (10150 to 10154).
        code: u32,
        /// The field at fault.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// A state the server should never reach.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl ApiError {
    /// An invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A role without a module.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            code: "forbidden",
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } | Self::InvalidRows { .. } | Self::InvalidFlow { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized(_) | Self::Refused { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge { .. } | Self::FieldTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Protocol { code: 10151, .. } => StatusCode::BAD_REQUEST,
            Self::Protocol { code: 10153, .. } | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Protocol { .. } => StatusCode::CONFLICT,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_field",
            Self::InvalidRows { .. } => "invalid_rows",
            Self::InvalidFlow { .. } => "invalid_flow",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden { code, .. } | Self::Refused { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::TooLarge { .. } | Self::FieldTooLarge { .. } => "too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable(_) => "unavailable",
            Self::Protocol { .. } => "rating_refused",
            Self::Internal(_) => "internal",
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        let (field, message) = match self {
            Self::Invalid { field, message } => (Some(field.clone()), message.clone()),
            Self::TooLarge { .. } => (Some("body".to_owned()), self.to_string()),
            Self::FieldTooLarge { field, message } => (Some((*field).to_owned()), message.clone()),
            Self::UnsupportedMediaType(_) => (Some("Content-Type".to_owned()), self.to_string()),
            Self::InvalidRows { .. } => (Some("file".to_owned()), self.to_string()),
            Self::InvalidFlow { errors, .. } => (
                Some(
                    errors
                        .first()
                        .map_or("graph", |e| e.field.as_str())
                        .to_owned(),
                ),
                self.to_string(),
            ),
            // Ids in bodies are refused as invalid fields; a 404 is about the path's ids.
            Self::NotFound(_) => (Some("path".to_owned()), self.to_string()),
            Self::Protocol { field, message, .. } => (Some((*field).to_owned()), message.clone()),
            _ => (None, self.to_string()),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                field,
                rows: match self {
                    Self::InvalidRows { rows, .. } => Some(rows.clone()),
                    _ => None,
                },
                retry_after_secs: match self {
                    Self::TooManyRequests {
                        retry_after_secs, ..
                    } => Some(*retry_after_secs),
                    _ => None,
                },
                protocol_code: self.protocol_code(),
                errors: match self {
                    Self::InvalidFlow { errors, .. } => Some(errors.clone()),
                    _ => None,
                },
            },
        }
    }

    /// The user-end protocol's code, for a refused rating.
    pub fn protocol_code(&self) -> Option<u32> {
        match self {
            Self::Protocol { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let Self::TooManyRequests {
            retry_after_secs, ..
        } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Self::Unauthorized(_) | Self::Refused { .. } = &self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"helpline\""),
            );
        }
        response
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::Invalid { field, reason } => Self::invalid(field, reason),
            Rejection::Conflict(m) => Self::Conflict(m),
            Rejection::NotFound(m) => Self::NotFound(m),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Rejected(r) => r.into(),
            EngineError::Log(e) => {
                tracing::error!(error = %e, "the event log refused a change");
                Self::Unavailable(format!("the event log refused the change: {e}"))
            }
            EngineError::Unavailable(m) => Self::Unavailable(m),
        }
    }
}

impl From<crate::log::LogError> for ApiError {
    fn from(e: crate::log::LogError) -> Self {
        EngineError::Log(e).into()
    }
}

/// Reads a JSON document, naming the field any error is about (`reception.accept_timeout_secs`,
/// `levels[2].value`...).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| path_error(e, None))
}

/// Reads a frame `{"type": "<kind>", ...fields}` into `T`, an externally tagged enum whose
/// variants are the kinds (struct variants, `{}` for none): serde loses the path inside an
/// internally tagged enum, so the frame is read as `{"<kind>": {...fields}}` and every error
/// names the field as the frame has it (`status`, `body.text`).
pub fn parse_frame<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = parse_json(bytes)?;
    let serde_json::Value::Object(mut fields) = value else {
        return Err(ApiError::invalid("body", "a frame is a JSON object"));
    };
    let kind = match fields.remove("type") {
        Some(serde_json::Value::String(kind)) => kind,
        Some(_) => return Err(ApiError::invalid("type", "must be a string")),
        None => return Err(ApiError::invalid("type", "missing field `type`")),
    };
    let tagged = serde_json::json!({ kind.as_str(): fields });
    serde_path_to_error::deserialize(tagged).map_err(|e| {
        // An unknown kind is about `type`.
        if e.path().iter().next().is_none() && e.inner().to_string().starts_with("unknown variant")
        {
            return ApiError::invalid("type", e.inner().to_string());
        }
        path_error(e, Some(&kind))
    })
}

/// An error of `serde_path_to_error` as an invalid field; `within` is a leading segment
/// (a frame's kind) to drop from the path.
fn path_error<E: std::fmt::Display>(
    e: serde_path_to_error::Error<E>,
    within: Option<&str>,
) -> ApiError {
    let mut path = e.path().to_string();
    if let Some(kind) = within {
        path = path
            .strip_prefix(kind)
            .map(|rest| rest.strip_prefix('.').unwrap_or(rest))
            .map(|rest| {
                if rest.is_empty() {
                    ".".to_owned()
                } else {
                    rest.to_owned()
                }
            })
            .unwrap_or(path);
    }
    let inner = e.into_inner();
    let message = inner.to_string();
    // serde names a missing field in backticks, and the path stops at its parent (an unknown
    // field's path already ends with it).
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (missing, path.as_str()) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "." | "?") => "body".to_owned(),
        (None, path) => path.to_owned(),
    };
    // Drop serde's position suffix: the field says where.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_owned();
    ApiError::invalid(field, message)
}

/// A JSON request body, read with a size limit and strict field checking.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::UnsupportedMediaType(
                "expected Content-Type: application/json".to_owned(),
            ));
        }
        let bytes = read_body(req, MAX_JSON_BYTES).await?;
        parse_json(&bytes).map(Body)
    }
}

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_body(req: Request, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::TooLarge { limit })
}

/// A path parameter (or tuple of them), refused as JSON when malformed.
pub struct Id<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Id(v)),
            Err(e) => Err(ApiError::invalid("path", e.body_text())),
        }
    }
}

/// Query parameters, refused as JSON when malformed.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(e) => {
                // axum says "Failed to deserialize query string: <path>: <what>" for a bad
                // value, and names unknown or missing parameters in backticks.
                let text = e.body_text();
                let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d);
                let field = match detail.split_once(": ") {
                    Some((path, _)) if !path.contains(' ') => path.to_owned(),
                    _ => detail
                        .split('`')
                        .nth(1)
                        .map_or_else(|| "query".to_owned(), str::to_owned),
                };
                Err(ApiError::invalid(field, detail))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        value: u8,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        levels: Vec<Inner>,
    }

    fn field(json: &str) -> String {
        match parse_json::<Outer>(json.as_bytes()).unwrap_err() {
            ApiError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_json_error_names_its_field() {
        assert_eq!(field(r#"{"levels":[]}"#), "name");
        assert_eq!(field(r#"{"name":1,"levels":[]}"#), "name");
        assert_eq!(
            field(r#"{"name":"a","levels":[{"value":300}]}"#),
            "levels[0].value"
        );
        assert_eq!(field(r#"{"name":"a","levels":[{}]}"#), "levels[0].value");
        assert_eq!(field(r#"{"name":"a","levels":[],"x":1}"#), "x");
        assert_eq!(field(r#"{"name":"a","#), "body");
        assert_eq!(field("[]"), "body");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Any body is parsed or refused naming a field, never a panic.
        #[test]
        fn any_body_is_parsed_or_refused_naming_a_field(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            match parse_json::<Outer>(&bytes) {
                Ok(_) => {}
                Err(ApiError::Invalid { field, .. }) => proptest::prop_assert!(!field.is_empty()),
                Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
            }
        }

        /// JSON-shaped bodies with wrong types or values name the field they broke at.
        #[test]
        fn json_shaped_bodies_name_their_field(name in proptest::prelude::any::<Option<i64>>(), value in proptest::prelude::any::<i64>()) {
            let body = serde_json::json!({"name": name, "levels": [{"value": value}]}).to_string();
            match parse_json::<Outer>(body.as_bytes()) {
                Ok(_) => proptest::prop_assert!(false, "name is never a string here"),
                Err(ApiError::Invalid { field, .. }) => {
                    proptest::prop_assert!(field == "name" || field == "levels[0].value", "{field}")
                }
                Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }
}
