//! One API error type, mapped once. Every error response has the shape
//! `{"error": {"code": "...", "message": "..."}}`; codes are listed in [`ErrorCode`].
//! Database faults become an opaque 500 and a log line; they never leak details.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use kefu_domain::DomainError;
use kefu_store::StoreError;

/// The public error codes. Clients may match on these strings; they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request body or a parameter is malformed or fails validation.
    InvalidInput,
    /// The body is not valid JSON, or has the wrong shape.
    MalformedJson,
    /// No or bad credentials.
    Unauthenticated,
    /// Authenticated, but the role may not do this.
    Forbidden,
    /// The CSRF token is missing or wrong.
    CsrfFailed,
    NotFound,
    /// The status change breaks the ticket lifecycle.
    IllegalTransition,
    /// The ticket is closed and read-only.
    TicketClosed,
    /// A unique value is already taken.
    Conflict,
    /// The body exceeds the configured limit.
    PayloadTooLarge,
    UnsupportedMediaType,
    /// The path exists but not with this HTTP method.
    MethodNotAllowed,
    Internal,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidInput,
        ErrorCode::MalformedJson,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::CsrfFailed,
        ErrorCode::NotFound,
        ErrorCode::IllegalTransition,
        ErrorCode::TicketClosed,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfFailed => "csrf_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::IllegalTransition => "illegal_transition",
            ErrorCode::TicketClosed => "ticket_closed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidInput | ErrorCode::MalformedJson => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::CsrfFailed => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::IllegalTransition | ErrorCode::TicketClosed => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("{what} not found"))
    }
    pub fn forbidden() -> Self {
        ApiError::new(ErrorCode::Forbidden, "your role does not allow this")
    }
    pub fn unauthenticated() -> Self {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "sign in or send a valid bearer token",
        )
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidInput, message)
    }
    pub fn internal() -> Self {
        ApiError::new(ErrorCode::Internal, "internal error; it has been logged")
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let code = match e {
            DomainError::Invalid { .. } => ErrorCode::InvalidInput,
            DomainError::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            DomainError::TicketClosed => ErrorCode::TicketClosed,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            StoreError::InvalidReference(what) => {
                ApiError::new(ErrorCode::InvalidInput, format!("{what} does not exist"))
            }
            StoreError::Conflict(what) => {
                ApiError::new(ErrorCode::Conflict, format!("{what} already exists"))
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match r {
            J::MissingJsonContentType(_) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected Content-Type: application/json",
            ),
            J::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                ErrorCode::PayloadTooLarge,
                "request body is larger than the limit",
            ),
            J::JsonDataError(e) => ApiError::new(ErrorCode::InvalidInput, e.body_text()),
            other => ApiError::new(ErrorCode::MalformedJson, other.body_text()),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::new(ErrorCode::InvalidInput, r.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::new(ErrorCode::NotFound, r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        metrics::counter!("kefu_api_errors_total", "code" => self.code.as_str()).increment(1);
        let body = serde_json::json!({
            "error": { "code": self.code.as_str(), "message": self.message }
        });
        (self.code.status(), Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
