//! User tokens: how an app's own backend vouches for its users without helpline keeping a
//! user database. A token is a JSON Web Token signed with HMAC-SHA256 (`HS256`) by the app's
//! IM secret, so any JWT library mints one:
//!
//! ```text
//! header  {"alg":"HS256","typ":"JWT"}
//! claims  {"app": 1, "sub": "<the user's id in the app>", "exp": <Unix seconds>}
//! token   base64url(header) "." base64url(claims) "." base64url(HMAC-SHA256(secret, first two parts))
//! ```
//!
//! The optional registered claims are honoured: `nbf` (not before) and `iat` (issued at),
//! Unix seconds, each with [`CLOCK_SKEW_SECS`] of slack for the app's clock; and `aud`, a
//! string or an array of strings, which when present must name [`AUDIENCE`] (so a token an
//! app minted for another of its services with the same secret does not open the desk).
//!
//! Verification is pure: the caller hands in the time and a lookup of the app's secrets (the
//! current one and, during a rotation's grace period, the previous one).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::ids::AppId;

/// Longest token accepted: real ones are a few hundred bytes.
pub const MAX_TOKEN_BYTES: usize = 4_096;
/// Longest user id, in bytes (as the IM's account ids).
pub const MAX_USER_ID_BYTES: usize = 128;
/// Tokens valid for longer than this from now are refused: a leaked token must not live for
/// years.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 30 * 86_400;

/// How far the app's clock may run ahead of the desk's: a token issued (`iat`) or valid
/// from (`nbf`) up to this far in the future is taken, beyond it refused.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// The audience a token's `aud`, when it has one, must name.
pub const AUDIENCE: &str = "helpline";

/// What a token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaims {
    /// The app (the seed's SdkAppId).
    pub app: AppId,
    /// The user's id in the app.
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
}

/// Why a token was refused; the text is the reason a 401 gives.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON, or a claim missing or of the wrong type.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// A header naming another algorithm (`none` included).
    #[error("unsupported algorithm {0:?}: only HS256 is accepted")]
    Algorithm(String),
    /// The token names an app that has no IM secret (or does not exist).
    #[error("app {0} does not accept user tokens (no IM secret)")]
    UnknownApp(AppId),
    /// The token is for another app than the one asked.
    #[error("the token is for app {token}, not app {expected}")]
    WrongApp {
        /// The app in the token.
        token: AppId,
        /// The app the request is for.
        expected: AppId,
    },
    /// The signature does not match the app's secret.
    #[error("bad signature")]
    BadSignature,
    /// Past its expiry.
    #[error("expired at {exp} (now {now})")]
    Expired {
        /// The token's expiry, Unix seconds.
        exp: i64,
        /// The time of the check.
        now: i64,
    },
    /// Valid for longer than [`MAX_TOKEN_LIFETIME_SECS`].
    #[error("expires too far ahead ({exp}); at most {MAX_TOKEN_LIFETIME_SECS} s from now")]
    TooLong {
        /// The token's expiry.
        exp: i64,
    },
    /// `nbf` is later than now (beyond the skew allowance).
    #[error("not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The token's `nbf`, Unix seconds.
        nbf: i64,
        /// The time of the check.
        now: i64,
    },
    /// `iat` is later than now (beyond the skew allowance): the minting clock is wrong.
    #[error("issued in the future at {iat} (now {now})")]
    IssuedInFuture {
        /// The token's `iat`, Unix seconds.
        iat: i64,
        /// The time of the check.
        now: i64,
    },
    /// `aud` is present and does not name [`AUDIENCE`].
    #[error("for audience {0}, not {AUDIENCE:?}")]
    WrongAudience(String),
    /// The user named by the request is not the token's.
    #[error("the token is for user {token:?}, not {claimed:?}")]
    UserMismatch {
        /// The token's user.
        token: String,
        /// The user the request names.
        claimed: String,
    },
}

/// The optional registered claims, read beside [`UserClaims`] (whose three claims apps and
/// tools build as a struct).
#[derive(Deserialize)]
struct Registered {
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    aud: Option<Audience>,
}

/// `aud`: one audience or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn names(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(all) => all.iter().any(|a| a == audience),
        }
    }

    fn describe(&self) -> String {
        match self {
            Audience::One(a) => format!("{a:?}"),
            Audience::Many(all) => format!("{all:?}"),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

fn sign(secret: &[u8], signing_input: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(signing_input.as_bytes());
    mac
}

/// Mints a token (helpline's own tests and tools; apps mint with their JWT library).
pub fn mint(secret: &[u8], claims: &UserClaims) -> String {
    mint_bytes(
        secret,
        &serde_json::to_vec(claims).expect("claims serialize"),
    )
}

/// Mints a token of any claims (to test the optional ones: `nbf`, `iat`, `aud`).
pub fn mint_json(secret: &[u8], claims: &serde_json::Value) -> String {
    mint_bytes(
        secret,
        &serde_json::to_vec(claims).expect("claims serialize"),
    )
}

fn mint_bytes(secret: &[u8], claims: &[u8]) -> String {
    let header = Header {
        alg: "HS256".to_owned(),
        typ: Some("JWT".to_owned()),
    };
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("a header serializes")),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = sign(secret, &signing_input).finalize().into_bytes();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Checks a token for `expected` app at `now` (Unix seconds). `secrets` gives the app's
/// accepted secrets (current first); every one is tried in constant time.
pub fn verify(
    token: &str,
    expected: AppId,
    secrets: &[Vec<u8>],
    now: i64,
) -> Result<UserClaims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed(format!(
            "longer than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed(
            "expected three dot-separated parts".to_owned(),
        ));
    };
    let decode = |what: &str, part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed(format!("the {what} is not base64url")))
    };
    let header: Header = serde_json::from_slice(&decode("header", header)?)
        .map_err(|e| TokenError::Malformed(format!("header: {e}")))?;
    if header.alg != "HS256" {
        return Err(TokenError::Algorithm(header.alg));
    }
    let claims_json = decode("claims part", claims)?;
    let signature = decode("signature", signature)?;
    // The app comes from the claims, but nothing in them is trusted until the signature is.
    let unverified: UserClaims = serde_json::from_slice(&claims_json)
        .map_err(|e| TokenError::Malformed(format!("claims: {e}")))?;
    if unverified.app != expected {
        return Err(TokenError::WrongApp {
            token: unverified.app,
            expected,
        });
    }
    if secrets.is_empty() {
        return Err(TokenError::UnknownApp(expected));
    }
    let signing_input = &token[..token.len() - token.rsplit('.').next().map_or(0, str::len) - 1];
    let signed = secrets
        .iter()
        .any(|s| sign(s, signing_input).verify_slice(&signature).is_ok());
    if !signed {
        return Err(TokenError::BadSignature);
    }
    let claims = unverified;
    if claims.sub.is_empty() || claims.sub.len() > MAX_USER_ID_BYTES {
        return Err(TokenError::Malformed(format!(
            "sub must be 1 to {MAX_USER_ID_BYTES} bytes"
        )));
    }
    if now >= claims.exp {
        return Err(TokenError::Expired {
            exp: claims.exp,
            now,
        });
    }
    if claims.exp - now > MAX_TOKEN_LIFETIME_SECS {
        return Err(TokenError::TooLong { exp: claims.exp });
    }
    let registered: Registered = serde_json::from_slice(&claims_json)
        .map_err(|e| TokenError::Malformed(format!("claims: {e}")))?;
    if let Some(nbf) = registered.nbf
        && nbf > now.saturating_add(CLOCK_SKEW_SECS)
    {
        return Err(TokenError::NotYetValid { nbf, now });
    }
    if let Some(iat) = registered.iat
        && iat > now.saturating_add(CLOCK_SKEW_SECS)
    {
        return Err(TokenError::IssuedInFuture { iat, now });
    }
    if let Some(aud) = &registered.aud
        && !aud.names(AUDIENCE)
    {
        return Err(TokenError::WrongAudience(aud.describe()));
    }
    Ok(claims)
}

/// The app a token claims, before anything in it is trusted: to look up the secrets that
/// [`verify`] then checks it against.
pub fn claimed_app(token: &str) -> Result<AppId, TokenError> {
    #[derive(Deserialize)]
    struct AppOnly {
        app: AppId,
    }
    let claims = token
        .split('.')
        .nth(1)
        .ok_or_else(|| TokenError::Malformed("expected three dot-separated parts".to_owned()))?;
    let json = URL_SAFE_NO_PAD
        .decode(claims)
        .map_err(|_| TokenError::Malformed("the claims part is not base64url".to_owned()))?;
    serde_json::from_slice::<AppOnly>(&json)
        .map(|c| c.app)
        .map_err(|e| TokenError::Malformed(format!("claims: {e}")))
}

/// Checks that the user a request names is the token's.
pub fn same_user(claims: &UserClaims, claimed: &str) -> Result<(), TokenError> {
    if claims.sub == claimed {
        Ok(())
    } else {
        Err(TokenError::UserMismatch {
            token: claims.sub.clone(),
            claimed: claimed.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn claims() -> UserClaims {
        UserClaims {
            app: AppId(1),
            sub: "user-42".to_owned(),
            exp: NOW + 3_600,
        }
    }

    fn secrets() -> Vec<Vec<u8>> {
        vec![b"current secret".to_vec(), b"previous secret".to_vec()]
    }

    #[test]
    fn a_minted_token_verifies_with_the_current_or_previous_secret() {
        for secret in secrets() {
            let token = mint(&secret, &claims());
            assert_eq!(verify(&token, AppId(1), &secrets(), NOW), Ok(claims()));
        }
    }

    #[test]
    fn matches_a_token_minted_elsewhere() {
        // Minted with Python's standard hmac, hashlib and base64 (the README's example) for
        // secret "current secret".
        let elsewhere = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
                         eyJhcHAiOjEsInN1YiI6InVzZXItNDIiLCJleHAiOjE4MDAwMDM2MDB9.\
                         RnzKZ0pBhrU9FV2-Kgp4KSDS03os5el9DKnNhkzU22E";
        assert_eq!(mint(b"current secret", &claims()), elsewhere);
        assert_eq!(verify(elsewhere, AppId(1), &secrets(), NOW), Ok(claims()));
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let good = mint(b"current secret", &claims());
        let forged = mint(b"another secret", &claims());
        let expired = mint(
            b"current secret",
            &UserClaims {
                exp: NOW,
                ..claims()
            },
        );
        let too_long = mint(
            b"current secret",
            &UserClaims {
                exp: NOW + MAX_TOKEN_LIFETIME_SECS + 1,
                ..claims()
            },
        );
        let other_app = mint(
            b"current secret",
            &UserClaims {
                app: AppId(2),
                ..claims()
            },
        );
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            good.split('.').nth(1).unwrap()
        );
        let tampered = {
            let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
            let evil = UserClaims {
                sub: "admin".to_owned(),
                ..claims()
            };
            parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&evil).unwrap());
            parts.join(".")
        };
        assert_eq!(
            verify(&forged, AppId(1), &secrets(), NOW),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&tampered, AppId(1), &secrets(), NOW),
            Err(TokenError::BadSignature)
        );
        assert!(matches!(
            verify(&expired, AppId(1), &secrets(), NOW),
            Err(TokenError::Expired { .. })
        ));
        assert!(matches!(
            verify(&too_long, AppId(1), &secrets(), NOW),
            Err(TokenError::TooLong { .. })
        ));
        assert!(matches!(
            verify(&other_app, AppId(1), &secrets(), NOW),
            Err(TokenError::WrongApp { .. })
        ));
        assert_eq!(
            verify(&none_alg, AppId(1), &secrets(), NOW),
            Err(TokenError::Algorithm("none".to_owned()))
        );
        assert_eq!(
            verify(&good, AppId(1), &[], NOW),
            Err(TokenError::UnknownApp(AppId(1)))
        );
        for junk in [
            "",
            "a.b",
            "a.b.c.d",
            "!!!.@@@.###",
            &"x".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            assert!(
                matches!(
                    verify(junk, AppId(1), &secrets(), NOW),
                    Err(TokenError::Malformed(_))
                ),
                "{junk:?}"
            );
        }
        let ok = verify(&good, AppId(1), &secrets(), NOW).unwrap();
        assert!(same_user(&ok, "user-42").is_ok());
        assert!(matches!(
            same_user(&ok, "user-43"),
            Err(TokenError::UserMismatch { .. })
        ));
    }

    #[test]
    fn nbf_and_iat_are_honoured_with_a_small_skew() {
        let with = |extra: serde_json::Value| {
            let mut claims = serde_json::to_value(claims()).unwrap();
            claims
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            mint_json(b"current secret", &claims)
        };
        let at = |token: &str| verify(token, AppId(1), &secrets(), NOW);
        assert_eq!(
            at(&with(serde_json::json!({"nbf": NOW - 10, "iat": NOW - 10}))),
            Ok(claims())
        );
        assert_eq!(
            at(&with(serde_json::json!({"nbf": NOW + CLOCK_SKEW_SECS}))),
            Ok(claims())
        );
        assert_eq!(
            at(&with(serde_json::json!({"nbf": NOW + CLOCK_SKEW_SECS + 1}))),
            Err(TokenError::NotYetValid {
                nbf: NOW + CLOCK_SKEW_SECS + 1,
                now: NOW
            })
        );
        assert_eq!(
            at(&with(serde_json::json!({"iat": NOW + CLOCK_SKEW_SECS}))),
            Ok(claims())
        );
        assert!(matches!(
            at(&with(serde_json::json!({"iat": NOW + CLOCK_SKEW_SECS + 1}))),
            Err(TokenError::IssuedInFuture { .. })
        ));
        assert!(matches!(
            at(&with(serde_json::json!({"nbf": "soon"}))),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn an_audience_when_present_must_name_the_desk() {
        let with_aud = |aud: serde_json::Value| {
            let mut claims = serde_json::to_value(claims()).unwrap();
            claims["aud"] = aud;
            mint_json(b"current secret", &claims)
        };
        let at = |token: &str| verify(token, AppId(1), &secrets(), NOW);
        assert_eq!(at(&with_aud(serde_json::json!(AUDIENCE))), Ok(claims()));
        assert_eq!(
            at(&with_aud(serde_json::json!(["billing", AUDIENCE]))),
            Ok(claims())
        );
        assert!(matches!(
            at(&with_aud(serde_json::json!("billing"))),
            Err(TokenError::WrongAudience(_))
        ));
        assert!(matches!(
            at(&with_aud(serde_json::json!(["billing"]))),
            Err(TokenError::WrongAudience(_))
        ));
    }

    proptest::proptest! {
        /// Whatever `nbf` and `iat` say, a token is taken only when neither is later than
        /// now plus the skew allowance.
        #[test]
        fn time_claims_decide_by_the_skew(nbf in -200i64..200, iat in -200i64..200) {
            let mut c = serde_json::to_value(claims()).unwrap();
            c["nbf"] = (NOW + nbf).into();
            c["iat"] = (NOW + iat).into();
            let token = mint_json(b"current secret", &c);
            let ok = verify(&token, AppId(1), &secrets(), NOW).is_ok();
            proptest::prop_assert_eq!(ok, nbf <= CLOCK_SKEW_SECS && iat <= CLOCK_SKEW_SECS);
        }

        /// Any text is refused or verified, never a panic; nothing unsigned gets through.
        #[test]
        fn any_text_is_refused_without_panic(token in "\\PC{0,200}") {
            proptest::prop_assert!(verify(&token, AppId(1), &secrets(), NOW).is_err());
        }

        /// Flipping any character of a good token breaks it.
        #[test]
        fn any_tampering_is_caught(at in 0usize..200, c in "[A-Za-z0-9_-]") {
            let good = mint(b"current secret", &claims());
            let at = at % good.len();
            if good.as_bytes()[at] != b'.' && good[at..].chars().next() != c.chars().next() {
                let mut bad = good.clone();
                bad.replace_range(at..at + 1, &c);
                proptest::prop_assert!(verify(&bad, AppId(1), &secrets(), NOW).is_err());
            }
        }
    }
}
