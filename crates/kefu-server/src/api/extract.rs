//! Request extractors for the API whose rejections are [`ApiError`]s, so every failure
//! to read a request (bad JSON, wrong content type, oversized body, bad query or path)
//! has the `{"error": {...}}` shape and is never a 500.
//!
//! Never does: authorization (that is [`crate::auth::Caller`]) or domain validation.

use crate::error::{ApiError, ApiResult, ErrorCode};
use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};

/// JSON body; requires `Content-Type: application/json`. The body must be a JSON object
/// (serde's derived `Deserialize` would also take an array of the fields in order).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(ObjectOnly(v)) =
            axum::Json::<ObjectOnly<T>>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

/// `T`, read only from a JSON object.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

/// Query string.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(v))
    }
}

/// Path parameters. A malformed id (`/tickets/abc`) is a 404, like an unknown one.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(v) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(v))
    }
}

/// The optional `Idempotency-Key` header: 1–255 visible ASCII characters.
pub struct IdempotencyKeyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKeyHeader(None));
        };
        let key =
            v.to_str().ok().map(str::trim).filter(|k| {
                (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
            });
        match key {
            Some(k) => Ok(IdempotencyKeyHeader(Some(k.to_string()))),
            None => Err(ApiError::invalid(
                "Idempotency-Key must be 1–255 visible ASCII characters",
            )),
        }
    }
}

/// Serde helper for PATCH fields where `null` means "clear" and absence means "keep":
/// use with `#[serde(default, deserialize_with = "nullable")]` on `Option<Option<T>>`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Page size: default 25, at most 100.
pub fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(25),
        Some(n @ 1..=100) => Ok(n),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidInput,
            "limit: must be between 1 and 100",
        )),
    }
}

/// Serde helpers for integer fields (ids, tiers). JSON Schema's `integer` also admits
/// integral numbers written with a fraction (`5846.0`), so these accept them too; any
/// other fraction, or a value outside `i64`, is rejected. Use with
/// `#[serde(default, deserialize_with = "int::…")]`.
pub mod int {
    use serde::de::{self, Deserialize, Deserializer, Visitor};
    use std::fmt;

    struct Int(i64);

    impl<'de> Deserialize<'de> for Int {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Int, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Int;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an integer")
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                    Ok(Int(v))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                    i64::try_from(v)
                        .map(Int)
                        .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                    // 2^63 is exactly representable; every integral f64 strictly between
                    // -2^63 and 2^63 fits. -2^63 itself is left out: JSON's integer
                    // -9223372036854775808 (i64::MIN) arrives through `visit_i64`, so a float
                    // equal to -2^63 was a number below i64::MIN rounded up to it.
                    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
                    if v.fract() == 0.0 && v > -LIMIT && v < LIMIT {
                        Ok(Int(v as i64))
                    } else {
                        Err(E::invalid_value(de::Unexpected::Float(v), &self))
                    }
                }
            }
            d.deserialize_any(V)
        }
    }

    /// `Option<i64>`: absent or `null` is `None`.
    pub fn opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(Option::<Int>::deserialize(d)?.map(|i| i.0))
    }

    /// `Option<Option<i64>>` for PATCH: absent is `None`, `null` is `Some(None)`.
    pub fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Ok(Some(opt(d)?))
    }

    /// `Vec<i64>`.
    pub fn vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        Ok(Vec::<Int>::deserialize(d)?
            .into_iter()
            .map(|i| i.0)
            .collect())
    }

    /// `Option<Vec<i64>>`: absent or `null` is `None`.
    pub fn opt_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
        Ok(Option::<Vec<Int>>::deserialize(d)?.map(|v| v.into_iter().map(|i| i.0).collect()))
    }

    #[cfg(test)]
    mod tests {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "super::opt")]
            a: Option<i64>,
            #[serde(default, deserialize_with = "super::vec")]
            v: Vec<i64>,
        }

        #[test]
        fn integral_floats_are_integers_and_other_numbers_are_not() {
            let t: T = serde_json::from_str(r#"{"a": 5846.0, "v": [1, -2.0, 3]}"#).unwrap();
            assert_eq!((t.a, t.v), (Some(5846), vec![1, -2, 3]));
            let t: T = serde_json::from_str(r#"{"a": null}"#).unwrap();
            assert_eq!(t.a, None);
            let t: T = serde_json::from_str(r#"{"a": -9223372036854775808}"#).unwrap();
            assert_eq!(t.a, Some(i64::MIN));
            for bad in [
                r#"{"a": 1.5}"#,
                r#"{"a": 1e19}"#,
                r#"{"a": "1"}"#,
                r#"{"v": [9223372036854775808]}"#,
                r#"{"v": [-9223372036854775809]}"#,
                r#"{"a": -9223372036854775809}"#,
            ] {
                assert!(serde_json::from_str::<T>(bad).is_err(), "{bad}");
            }
        }
    }
}
