//! Static assets embedded in the binary and served under content-hashed names.
//!
//! Every asset is compiled in with `include_bytes!`, so a Herald binary needs no files beside it. Its
//! public name carries the first 10 hex characters of the SHA-256 of its bytes
//! (`herald.css` → `herald.5d41402abc.css`), so the web layer can serve `/static/{hashed_name}` with
//! `Cache-Control: public, max-age=31536000, immutable`: a changed file gets a new name, and pages built
//! with [`url`] point at it at once.

use std::fmt::Write as _;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// URL prefix under which the web layer serves [`Asset::hashed_name`].
pub const STATIC_PREFIX: &str = "/static/";

/// How many hex characters of the SHA-256 go into a hashed name (40 bits: ample against collisions
/// among a handful of files, short enough to read in a URL).
const HASH_LEN: usize = 10;

/// One embedded static file.
#[derive(Debug)]
pub struct Asset {
    /// Logical name used by templates, e.g. `"htmx.min.js"`.
    pub name: &'static str,
    /// Name it is served under, with the content hash before the extension, e.g. `"htmx.min.3f2a9c1b0d.js"`.
    pub hashed_name: String,
    /// Value for the `Content-Type` header.
    pub content_type: &'static str,
    /// The file's bytes, compiled into the binary.
    pub bytes: &'static [u8],
}

/// htmx 2.0.11, the minified build (`dist/htmx.min.js`) of the npm package `htmx.org@2.0.11`,
/// vendored unchanged; its BSD Zero Clause license is in `static/htmx.LICENSE`.
const HTMX_JS: &[u8] = include_bytes!("../static/htmx.min.js");
/// Herald's hand-written stylesheet.
const HERALD_CSS: &[u8] = include_bytes!("../static/herald.css");
/// The bell favicon.
const FAVICON_SVG: &[u8] = include_bytes!("../static/favicon.svg");
/// Small progressive enhancements (time zone guess); every page works without it.
const HERALD_JS: &[u8] = include_bytes!("../static/herald.js");

/// Logical name, content type and bytes of every embedded file.
const FILES: [(&str, &str, &[u8]); 4] = [
    ("htmx.min.js", "text/javascript; charset=utf-8", HTMX_JS),
    ("herald.css", "text/css; charset=utf-8", HERALD_CSS),
    ("favicon.svg", "image/svg+xml", FAVICON_SVG),
    ("herald.js", "text/javascript; charset=utf-8", HERALD_JS),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, content_type, bytes)| Asset {
            name,
            hashed_name: hashed_name(name, bytes),
            content_type,
            bytes,
        })
        .collect()
});

/// Every embedded asset; the hashes are computed once, on first use.
pub fn assets() -> &'static [Asset] {
    &ASSETS
}

/// The asset served under `hashed_name` (the part after `/static/`), if any.
pub fn find(hashed_name: &str) -> Option<&'static Asset> {
    assets().iter().find(|asset| asset.hashed_name == hashed_name)
}

/// The URL path of the asset with logical name `name`, e.g. `url("herald.css")` →
/// `"/static/herald.5d41402abc.css"`.
///
/// An unknown name yields `/static/{name}` rather than a panic: the page still renders and the
/// broken link shows up as a 404 in the logs.
pub fn url(name: &str) -> String {
    let served =
        assets().iter().find(|asset| asset.name == name).map_or(name, |asset| asset.hashed_name.as_str());
    format!("{STATIC_PREFIX}{served}")
}

/// `name` with the first [`HASH_LEN`] hex characters of the SHA-256 of `bytes` inserted before its
/// last extension (`app.min.js` → `app.min.0123456789.js`), or appended when it has none.
pub(crate) fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hash = String::with_capacity(HASH_LEN);
    for byte in digest.iter().take(HASH_LEN / 2) {
        // Writing to a String cannot fail.
        let _ = write!(hash, "{byte:02x}");
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
        _ => format!("{name}.{hash}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_name_is_stable_and_follows_content() {
        let a = hashed_name("app.min.js", b"console.log(1)");
        assert_eq!(a, hashed_name("app.min.js", b"console.log(1)"));
        assert_ne!(a, hashed_name("app.min.js", b"console.log(2)"));
        // sha256("hello") = 2cf24dba5fb0a30e…
        assert_eq!(hashed_name("app.min.js", b"hello"), "app.min.2cf24dba5f.js");
        assert_eq!(hashed_name("LICENSE", b"hello"), "LICENSE.2cf24dba5f");
        assert_eq!(hashed_name(".hidden", b"hello"), ".hidden.2cf24dba5f");
    }

    #[test]
    fn every_asset_is_found_by_its_hashed_name() {
        assert_eq!(assets().len(), FILES.len());
        for asset in assets() {
            let found = find(&asset.hashed_name).map(|a| a.name);
            assert_eq!(found, Some(asset.name));
            assert_eq!(url(asset.name), format!("/static/{}", asset.hashed_name));
            assert_ne!(asset.hashed_name, asset.name);
            assert!(!asset.bytes.is_empty(), "{} is empty", asset.name);
        }
        assert!(find("htmx.min.js").is_none(), "logical names are not served");
        assert!(find("").is_none());
    }

    #[test]
    fn url_of_unknown_name_falls_back_without_panicking() {
        assert_eq!(url("nope.js"), "/static/nope.js");
        assert_eq!(url(""), "/static/");
    }

    #[test]
    fn vendored_htmx_is_the_documented_version() {
        let js = String::from_utf8_lossy(HTMX_JS);
        assert!(js.contains(r#"version:"2.0.11""#));
    }
}
