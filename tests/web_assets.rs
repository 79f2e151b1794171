//! The web UIs' files as a browser gets them, over real HTTP on loopback: the pages at `/`,
//! `/workstation` and `/console` (`no-cache`, a strict Content-Security-Policy whose
//! `frame-src` follows the enabled extensions), the hashed assets (`immutable`, the `.br` or
//! `.gz` copy the build made chosen by `Accept-Encoding`, revalidated by `ETag`), the
//! website embed script (small, compressed, loadable by any site), and `nosniff` on every
//! answer, the API's included.

mod common;

use std::path::Path;

use common::*;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY, X_CONTENT_TYPE_OPTIONS,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn built(path: &str) -> Vec<u8> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("web/dist/app")
        .join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The first `/assets/...` file `page` names, without its leading slash.
fn first_asset(page: &str) -> String {
    let html = String::from_utf8(built(page)).unwrap();
    let start = html.find("/assets/").expect("the page names an asset") + 1;
    let end = start
        + html[start..]
            .find(['"', '\''])
            .expect("the asset's name ends with a quote");
    html[start..end].to_owned()
}

async fn fetch(s: &Server, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let base = s.base.trim_end_matches("/api/v1");
    let mut req = s.http.get(format!("{base}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

fn header(resp: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> &str {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test]
async fn the_pages_are_served_fresh_under_a_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    for (route, file) in helpline::api::assets::PAGES {
        let resp = fetch(&s, route, &[]).await;
        assert_eq!(resp.status(), StatusCode::OK, "{route}");
        assert_eq!(header(&resp, CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(header(&resp, CACHE_CONTROL), "no-cache");
        assert_eq!(header(&resp, X_CONTENT_TYPE_OPTIONS), "nosniff");
        let csp = header(&resp, CONTENT_SECURITY_POLICY).to_owned();
        for directive in [
            "default-src 'self'",
            "script-src 'self';",
            "style-src 'self';",
            "connect-src 'self';",
            "frame-src 'none';",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{route}: {directive} in {csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        let tag = header(&resp, ETAG).to_owned();
        assert_eq!(resp.bytes().await.unwrap().as_ref(), built(file).as_slice());
        let again = fetch(&s, route, &[(IF_NONE_MATCH.as_str(), &tag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{route}");
    }
    s.stop().await;
}

/// The workstation frames extensions: the policy admits the origins of the enabled https
/// ones, and only those.
#[tokio::test]
async fn frames_are_admitted_from_enabled_extensions_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    for (name, url, enabled) in [
        ("crm", "https://crm.example.com:8443/agent?x=1", true),
        ("orders", "https://orders.example.com/", true),
        ("old", "https://retired.example.com/", false),
    ] {
        s.ok(
            &admin,
            Method::POST,
            "/extensions",
            json!({"name": name, "url": url, "alwaysVisible": false, "enabled": enabled}),
        )
        .await;
    }
    let resp = fetch(&s, "/workstation", &[]).await;
    let csp = header(&resp, CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("frame-src https://crm.example.com:8443 https://orders.example.com;"),
        "{csp}"
    );
    assert!(!csp.contains("retired"), "{csp}");
    s.stop().await;
}

#[tokio::test]
async fn assets_are_immutable_and_sent_in_the_coding_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let asset = first_asset("index.html");
    let path = format!("/{asset}");
    for (accept, coding, copy) in [
        (Some("gzip, deflate, br, zstd"), "br", format!("{asset}.br")),
        (Some("gzip"), "gzip", format!("{asset}.gz")),
        (Some("br;q=0, gzip;q=0"), "", asset.clone()),
        (None, "", asset.clone()),
    ] {
        let headers: Vec<(&str, &str)> = accept
            .iter()
            .map(|a| (ACCEPT_ENCODING.as_str(), *a))
            .collect();
        let resp = fetch(&s, &path, &headers).await;
        assert_eq!(resp.status(), StatusCode::OK, "{accept:?}");
        assert_eq!(
            header(&resp, CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&resp, CONTENT_ENCODING), coding, "{accept:?}");
        assert_eq!(header(&resp, VARY), "accept-encoding");
        assert_eq!(header(&resp, X_CONTENT_TYPE_OPTIONS), "nosniff");
        // The page's first asset may be its icon: an SVG is text, compressed like the rest.
        assert!(
            header(&resp, CONTENT_TYPE).starts_with("text/css")
                || header(&resp, CONTENT_TYPE).contains("javascript")
                || header(&resp, CONTENT_TYPE).starts_with("image/svg+xml"),
            "{}",
            header(&resp, CONTENT_TYPE)
        );
        let tag = header(&resp, ETAG).to_owned();
        let body = resp.bytes().await.unwrap();
        assert_eq!(body.as_ref(), built(&copy).as_slice());
        let again = fetch(
            &s,
            &path,
            &[
                (IF_NONE_MATCH.as_str(), tag.as_str()),
                (ACCEPT_ENCODING.as_str(), accept.unwrap_or("identity")),
            ],
        )
        .await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{accept:?}");
    }
    s.stop().await;
}

#[tokio::test]
async fn unknown_assets_and_copies_asked_by_name_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let asset = first_asset("index.html");
    for path in [
        format!("/{asset}.br"),
        format!("/{asset}.gz"),
        "/assets/nothing-00000000.js".to_owned(),
        "/assets/../index.html".to_owned(),
        "/assets/%2e%2e/index.html".to_owned(),
        "/index.html".to_owned(),
    ] {
        let resp = fetch(&s, &path, &[]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(header(&resp, X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
    }
    // The API's answers are not sniffed either.
    let (status, _) = s.call("", Method::GET, "/agents", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let resp = fetch(&s, "/api/v1/agents", &[]).await;
    assert_eq!(header(&resp, X_CONTENT_TYPE_OPTIONS), "nosniff");
    s.stop().await;
}

#[tokio::test]
async fn the_embed_script_is_built_small_and_sent_compressed_to_any_site() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let script = built(helpline::api::assets::LOADER);
    // The build's budget, checked here too: every page of a customer's site loads it.
    let gz = built(&format!("{}.gz", helpline::api::assets::LOADER));
    assert!(
        gz.len() <= 5 * 1024,
        "imPublish.js is {} bytes gzipped",
        gz.len()
    );
    for (accept, coding, copy) in [
        (Some("gzip, deflate, br"), "br", ".br"),
        (Some("gzip"), "gzip", ".gz"),
        (None, "", ""),
    ] {
        let headers: Vec<(&str, &str)> = accept
            .iter()
            .map(|a| (ACCEPT_ENCODING.as_str(), *a))
            .collect();
        let resp = fetch(&s, "/web/im/imPublish.js?webAppId=abc", &headers).await;
        assert_eq!(resp.status(), StatusCode::OK, "{accept:?}");
        assert_eq!(
            header(&resp, CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header(&resp, CONTENT_ENCODING), coding, "{accept:?}");
        assert_eq!(
            header(&resp, CACHE_CONTROL),
            "public, max-age=300, must-revalidate"
        );
        assert_eq!(
            header(&resp, "cross-origin-resource-policy"),
            "cross-origin"
        );
        let body = resp.bytes().await.unwrap();
        let want = built(&format!("{}{copy}", helpline::api::assets::LOADER));
        assert_eq!(body.as_ref(), want.as_slice(), "{accept:?}");
    }
    // A classic script: no module syntax, and it names the global it offers.
    let text = String::from_utf8(script).unwrap();
    assert!(text.contains("helplineChat"));
    assert!(!text.contains("import ") && !text.contains("export "));
    s.stop().await;
}
