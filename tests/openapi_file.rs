//! `web/openapi.json` is the server's OpenAPI document, committed: the web UIs' API types
//! are generated from it (`./scripts/web`, openapi-typescript), so a change to the API that
//! is not carried into the file fails here, and a stale `web/src/core/api.gen.ts` then fails
//! `./scripts/web --check`.
//!
//! `HELPLINE_BLESS=1 cargo test --test openapi_file` writes the file anew.

use std::path::Path;

#[test]
fn the_committed_openapi_document_is_the_servers() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/openapi.json");
    let mut now = serde_json::to_string_pretty(&helpline::api::openapi()).unwrap();
    now.push('\n');
    if std::env::var_os("HELPLINE_BLESS").is_some() {
        std::fs::write(&file, &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == now,
        "{} differs from the server's OpenAPI document: run \
         `HELPLINE_BLESS=1 cargo test --test openapi_file`, then ./scripts/web, and commit both",
        file.display()
    );
}
