//! The web UIs' files: the sign-in page at `/`, the workstation at `/workstation`, the
//! console at `/console`, and their scripts and styles under `/assets/`.
//!
//! `web/build.mjs` writes them into `web/dist/app/` (committed), and they are embedded in
//! the binary, so `helpline serve` needs no Node and no files beside it. Every file under
//! `assets/` carries its content's hash in its name: it is served `immutable` for a year,
//! and a new build is new names. The pages themselves are `no-cache` (revalidated with their
//! `ETag` each time), so a deploy reaches every browser at its next load. The build writes a
//! `.br` and a `.gz` beside each asset; the one the browser's `Accept-Encoding` prefers is
//! sent, compressed once at build time rather than on every request.
//!
//! Pages are sent with a strict Content-Security-Policy: scripts, styles and sockets from
//! this origin only, frames only from the https origins of enabled extensions (the
//! workstation shows them as iframes), and no framing of the pages themselves.
//!
//! The website channel's two public files live here too: the hosted chat page
//! (`/web/im/chat/?webAppId=...`, a page like the others, which only the desk itself and the
//! channel's `allowedOrigins` may frame) and the embed script (`/web/im/imPublish.js`, a
//! classic script any site loads; revalidated every five minutes, not hashed, since the
//! snippet in customers' pages never changes).

use std::collections::BTreeSet;

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    REFERRER_POLICY, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::AppState;
use super::error::ApiError;

/// The built UIs (`web/dist/app`).
#[derive(RustEmbed)]
#[folder = "web/dist/app/"]
struct Files;

/// Each page's route and file.
pub const PAGES: [(&str, &str); 3] = [
    ("/", "index.html"),
    ("/workstation", "workstation.html"),
    ("/console", "console.html"),
];

/// Hashed names never change content: a year, and never revalidated.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The routes of the pages and their assets.
pub fn files() -> axum::Router<AppState> {
    let mut router = axum::Router::new();
    for (route, file) in PAGES {
        router = router.route(
            route,
            get(move |state: State<AppState>, headers: HeaderMap| page(state, headers, file)),
        );
    }
    router
        .route("/assets/{*path}", get(asset))
        .route("/web/im/chat/", get(chat_page))
        .route("/web/im/chat", get(chat_page))
        .route("/web/im/imPublish.js", get(loader))
}

/// The hosted chat page's file.
pub const CHAT_PAGE: &str = "chat.html";
/// The embed script's file.
pub const LOADER: &str = "imPublish.js";

/// A content coding the build made a copy in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// `.br`.
    Brotli,
    /// `.gz`.
    Gzip,
    /// The file as it is.
    Identity,
}

impl Coding {
    fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => ".br",
            Coding::Gzip => ".gz",
            Coding::Identity => "",
        }
    }

    fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }
}

/// The coding to send, given the request's `Accept-Encoding` and the copies there are: the
/// acceptable one of highest weight, brotli before gzip at equal weight (smaller), and the
/// file as it is when neither is accepted (`br;q=0`, an absent header, a `*` of weight 0).
pub fn choose_coding(accept: Option<&str>, have: &[Coding]) -> Coding {
    let Some(accept) = accept else {
        return Coding::Identity;
    };
    let weight = |coding: Coding| -> f32 {
        let mut star = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(coding.token())
                || (coding == Coding::Gzip && name.eq_ignore_ascii_case("x-gzip"))
            {
                return q;
            }
            if name == "*" {
                star = Some(q);
            }
        }
        star.unwrap_or(0.0)
    };
    [Coding::Brotli, Coding::Gzip]
        .into_iter()
        .filter(|c| have.contains(c))
        .map(|c| (c, weight(c)))
        .filter(|(_, w)| *w > 0.0)
        .fold(None::<(Coding, f32)>, |best, (c, w)| match best {
            Some((_, bw)) if bw >= w => best,
            _ => Some((c, w)),
        })
        .map_or(Coding::Identity, |(c, _)| c)
}

/// The origin (`https://host[:port]`) of each enabled https extension, of every app: the
/// page is the same for every app (it is served before anyone signs in), so its policy
/// admits the frames any app may show.
fn frame_origins(state: &AppState) -> BTreeSet<String> {
    let directory = state.desk.read();
    directory
        .apps
        .values()
        .flat_map(|app| app.extensions.values())
        .filter(|e| e.enabled)
        .filter_map(|e| url::Url::parse(&e.url).ok())
        .filter(|u| u.scheme() == "https")
        .map(|u| u.origin().ascii_serialization())
        .collect()
}

/// The pages' Content-Security-Policy, with `frame-src` from `frames`; no page may be framed.
pub fn content_security_policy(frames: &BTreeSet<String>) -> String {
    policy(frames, "'none'")
}

/// The chat page's policy: no frames inside it, and framed only by the desk's own pages and
/// the `ancestors` (the channel's allowed origins).
pub fn chat_page_policy(ancestors: &[String]) -> String {
    let mut list = vec!["'self'".to_owned()];
    list.extend(ancestors.iter().cloned());
    policy(&BTreeSet::new(), &list.join(" "))
}

fn policy(frames: &BTreeSet<String>, frame_ancestors: &str) -> String {
    let frame_src = if frames.is_empty() {
        "'none'".to_owned()
    } else {
        frames.iter().cloned().collect::<Vec<_>>().join(" ")
    };
    // img-src admits https images: cards and rich text show pictures from anywhere.
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; \
         font-src 'self'; media-src 'self' data: blob:; connect-src 'self'; \
         frame-src {frame_src}; frame-ancestors {frame_ancestors}; base-uri 'none'; form-action 'self'; \
         object-src 'none'"
    )
}

fn etag(file: &rust_embed::EmbeddedFile, coding: Coding) -> String {
    let hash = file.metadata.sha256_hash();
    let hex: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
    match coding {
        Coding::Identity => format!("\"{hex}\""),
        c => format!("\"{hex}-{}\"", c.token()),
    }
}

fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

/// The file at `path` in the coding the request prefers, with its type, tag and coding
/// headers (`None`: no such file). Each copy is looked up once; an embedded file's bytes
/// are sent as they are, not copied per request.
fn encoded(path: &str, headers: &HeaderMap) -> Option<Response> {
    let plain = Files::get(path)?;
    let mut copies: Vec<(Coding, rust_embed::EmbeddedFile)> = [Coding::Brotli, Coding::Gzip]
        .into_iter()
        .filter_map(|c| Some((c, Files::get(&format!("{path}{}", c.suffix()))?)))
        .collect();
    let have: Vec<Coding> = copies.iter().map(|(c, _)| *c).collect();
    let accept = headers
        .get(axum::http::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let coding = choose_coding(accept, &have);
    let mime = plain.metadata.mimetype();
    let mime = if mime.starts_with("text/") && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    let file = match copies.iter().position(|(c, _)| *c == coding) {
        Some(i) => copies.swap_remove(i).1,
        None => plain,
    };
    let tag = etag(&file, coding);
    let mut response = if not_modified(headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match file.data {
            std::borrow::Cow::Borrowed(bytes) => bytes.into_response(),
            std::borrow::Cow::Owned(bytes) => bytes.into_response(),
        }
    };
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, header(&mime));
    out.insert(ETAG, header(&tag));
    if !have.is_empty() {
        out.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    if coding != Coding::Identity {
        out.insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
    }
    Some(response)
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A page: `no-cache`, with the policy.
async fn page(State(state): State<AppState>, headers: HeaderMap, file: &'static str) -> Response {
    let Some(mut response) = encoded(file, &headers) else {
        return ApiError::NotFound(format!("{file} is not in this build (run ./scripts/web)"))
            .into_response();
    };
    let out = response.headers_mut();
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(
        CONTENT_SECURITY_POLICY,
        header(&content_security_policy(&frame_origins(&state))),
    );
    out.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    out.insert(
        axum::http::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The website channel the chat page's query names (`webAppId`, or the `webAppld` some
/// of the desk's own documentation misspells), with the origins allowed to frame it.
fn chat_ancestors(state: &AppState, query: &HashMap<String, String>) -> Vec<String> {
    let Some(web_app_id) = query.get("webAppId").or_else(|| query.get("webAppld")) else {
        return Vec::new();
    };
    let directory = state.desk.read();
    directory
        .website(web_app_id)
        .and_then(|(app, channel)| {
            directory
                .apps
                .get(&app)?
                .website_origins
                .get(&channel.id)
                .cloned()
        })
        .unwrap_or_default()
}

/// `GET /web/im/chat/`: the hosted chat page. The page itself reads its query (an unknown
/// `webAppId` is its own message to the visitor); the policy frames it only where allowed.
async fn chat_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let ancestors = chat_ancestors(&state, &query);
    let mut response = page(State(state), headers, CHAT_PAGE).await;
    let out = response.headers_mut();
    if out.contains_key(CONTENT_SECURITY_POLICY) {
        out.insert(
            CONTENT_SECURITY_POLICY,
            header(&chat_page_policy(&ancestors)),
        );
        // Opened from a host page's launcher, the page is that page's frame: no opener
        // policy of its own.
        out.remove("cross-origin-opener-policy");
    }
    response
}

/// `GET /web/im/imPublish.js`: the embed script, loaded by any site with `<script src>`.
async fn loader(headers: HeaderMap) -> Response {
    match encoded(LOADER, &headers) {
        Some(mut response) => {
            let out = response.headers_mut();
            out.insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300, must-revalidate"),
            );
            out.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            );
            out.insert(
                axum::http::HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("cross-origin"),
            );
            response
        }
        None => ApiError::NotFound(format!("{LOADER} is not in this build (run ./scripts/web)"))
            .into_response(),
    }
}

/// An asset: hashed, so immutable; the compressed copies themselves are not asked for by
/// name (`Accept-Encoding` chooses them).
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("assets/{path}");
    let precompressed = path.ends_with(".br") || path.ends_with(".gz");
    match (!precompressed).then(|| encoded(&path, &headers)).flatten() {
        Some(mut response) => {
            let out = response.headers_mut();
            out.insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
            response
        }
        None => ApiError::NotFound(format!("no asset {path}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    #[test]
    fn brotli_is_chosen_over_gzip_at_equal_weight() {
        assert_eq!(
            choose_coding(Some("gzip, deflate, br, zstd"), &BOTH),
            Coding::Brotli
        );
        assert_eq!(choose_coding(Some("gzip"), &BOTH), Coding::Gzip);
        assert_eq!(choose_coding(Some("br"), &[Coding::Gzip]), Coding::Identity);
    }

    #[test]
    fn weights_decide_and_zero_refuses() {
        assert_eq!(
            choose_coding(Some("br;q=0.5, gzip;q=0.8"), &BOTH),
            Coding::Gzip
        );
        assert_eq!(
            choose_coding(Some("br;q=0, gzip;q=0"), &BOTH),
            Coding::Identity
        );
        assert_eq!(choose_coding(Some("*;q=0"), &BOTH), Coding::Identity);
        assert_eq!(choose_coding(Some("*"), &BOTH), Coding::Brotli);
        assert_eq!(choose_coding(Some("br;q=0, *"), &BOTH), Coding::Gzip);
        assert_eq!(choose_coding(Some("identity"), &BOTH), Coding::Identity);
        assert_eq!(choose_coding(None, &BOTH), Coding::Identity);
        assert_eq!(choose_coding(Some("x-gzip"), &BOTH), Coding::Gzip);
        assert_eq!(choose_coding(Some("BR ; q=1"), &BOTH), Coding::Brotli);
    }

    #[test]
    fn a_page_frames_only_what_extensions_name() {
        let none = content_security_policy(&BTreeSet::new());
        assert!(none.contains("frame-src 'none'"));
        assert!(none.contains("script-src 'self';"));
        assert!(none.contains("frame-ancestors 'none'"));
        let chat = chat_page_policy(&["https://shop.example".to_owned()]);
        assert!(chat.contains("frame-ancestors 'self' https://shop.example;"));
        assert!(chat.contains("frame-src 'none'"));
        assert!(chat_page_policy(&[]).contains("frame-ancestors 'self';"));
        let two: BTreeSet<String> = [
            "https://a.example".to_owned(),
            "https://b.example:8443".to_owned(),
        ]
        .into_iter()
        .collect();
        assert!(
            content_security_policy(&two)
                .contains("frame-src https://a.example https://b.example:8443;")
        );
    }
}
