//! Attachments: the images and files users and agents send each other. What an upload may
//! be is decided here, from the bytes alone: the content type is sniffed (never taken from
//! the client), checked against the operator's allow list and against the file name's
//! extension, and the name must be a plain file name (no path, no control character). The
//! bytes themselves live in the data directory (`crate::im::attachments`); the log records
//! only what is checked here plus the SHA-256, as [`AttachmentRecord`].

use crate::domain::Rejection;
use crate::domain::conversation::{Body, Sender};
use crate::durable;

/// The default largest upload: 10 MiB, the size peers' widgets allow.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;
/// The highest `max_bytes` an operator may configure: uploads are held in memory while
/// checked, and a message body carries the size as 32 bits.
pub const MAX_ATTACHMENT_BYTES_LIMIT: u64 = 100 * 1024 * 1024;
/// Longest file name, in bytes (what common file systems take).
pub const MAX_NAME_BYTES: usize = 255;
/// Most attachments one conversation holds: each is a file on disk and an entry in memory.
pub const MAX_ATTACHMENTS_PER_CONVERSATION: usize = 10_000;

/// The content types allowed by default: images, PDF, plain text and office documents.
pub const DEFAULT_ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// Images shown inline (previews); every other type is served as a download.
pub const INLINE_IMAGES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Extensions a plain-text file may carry.
const TEXT_EXTENSIONS: &[&str] = &["txt", "log", "md", "csv"];

/// What uploads may be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The largest upload, in bytes.
    pub max_bytes: u64,
    /// The content types allowed (as sniffed).
    pub allowed: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
            allowed: DEFAULT_ALLOWED.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// An upload that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The file name as given (a plain name).
    pub name: String,
    /// The sniffed content type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u32,
}

/// Whether `content_type` is served inline (an image preview) rather than as a download.
pub fn inline(content_type: &str) -> bool {
    INLINE_IMAGES.contains(&content_type)
}

/// Checks a file name: a plain name of 1 to 255 bytes, no path separator, no `..`, no
/// control character, not hidden (a leading dot), with an extension.
pub fn check_name(name: &str) -> Result<(), Rejection> {
    let refuse = |why: &str| Err(Rejection::invalid("name", format!("{name:?} {why}")));
    if name.is_empty() {
        return Err(Rejection::invalid("name", "must not be empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Rejection::invalid(
            "name",
            format!("{} bytes is over the limit of {MAX_NAME_BYTES}", name.len()),
        ));
    }
    if name.contains(['/', '\\']) {
        return refuse("is a path: give a plain file name, without / or \\");
    }
    if name.contains("..") {
        return refuse("holds \"..\": give a plain file name");
    }
    if name.chars().any(|c| c.is_control()) {
        return refuse("holds a control character");
    }
    if name.starts_with('.') || name.trim() != name {
        return refuse("must not start with a dot or a space, nor end with a space");
    }
    if extension(name).is_none() {
        return refuse("has no extension (such as .png or .pdf)");
    }
    Ok(())
}

/// The name's extension, lowercase.
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// The content type read from the bytes: a known binary signature, else plain text when
/// the bytes are UTF-8 without control characters (besides tab, line breaks, form feed).
pub fn sniff(bytes: &[u8]) -> Option<(String, Vec<&'static str>)> {
    if let Some(kind) = infer::get(bytes) {
        let mime = kind.mime_type();
        let mut extensions = vec![kind.extension()];
        match mime {
            "image/jpeg" => extensions.extend(["jpg", "jpeg", "jpe"]),
            "image/tiff" => extensions.push("tif"),
            _ => {}
        }
        return Some((mime.to_owned(), extensions));
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let plain = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'));
    plain.then(|| ("text/plain".to_owned(), TEXT_EXTENSIONS.to_vec()))
}

/// Checks an upload: its name, its size, and its bytes' content type against the policy
/// and the name's extension. Each refusal names the field (`name` or `file`).
pub fn check_upload(policy: &Policy, name: &str, bytes: &[u8]) -> Result<Checked, Rejection> {
    check_name(name)?;
    let size = bytes.len() as u64;
    if size == 0 {
        return Err(Rejection::invalid(
            "file",
            "is empty: send the file's bytes as the request body",
        ));
    }
    if size > policy.max_bytes {
        return Err(Rejection::invalid(
            "file",
            format!("{size} bytes is over the limit of {}", policy.max_bytes),
        ));
    }
    let Some((content_type, extensions)) = sniff(bytes) else {
        return Err(Rejection::invalid(
            "file",
            "its content is of no known type (binary data that is not an allowed file)",
        ));
    };
    if !policy.allowed.iter().any(|a| a == &content_type) {
        return Err(Rejection::invalid(
            "file",
            format!("its content is {content_type}, which is not an allowed type"),
        ));
    }
    let ext = extension(name).unwrap_or_default();
    if !extensions.contains(&ext.as_str()) {
        return Err(Rejection::invalid(
            "name",
            format!(
                "{name:?} ends in .{ext} but the content is {content_type} (.{})",
                extensions.join(", .")
            ),
        ));
    }
    let size = u32::try_from(size).map_err(|_| Rejection::invalid("file", "is too large"))?;
    Ok(Checked {
        name: name.to_owned(),
        content_type,
        size,
    })
}

durable! {
    /// What the log keeps of a stored attachment (its bytes are in the data directory).
    #[serde(rename_all = "camelCase")]
    pub struct AttachmentRecord {
        /// Its id in the conversation (1, 2, 3...).
        pub id: u32,
        /// The file name.
        pub name: String,
        /// The sniffed content type.
        pub content_type: String,
        /// Its size in bytes.
        pub size: u32,
        /// SHA-256 of the bytes, hex.
        pub sha256: String,
        /// Who uploaded it.
        pub sender: Sender,
        /// When, ms since the epoch.
        pub at_ms: i64,
    }
}

/// A conversation's attachments, by id (dense from 1).
#[derive(Clone, Debug, Default)]
pub struct Attachments {
    list: Vec<AttachmentRecord>,
}

impl Attachments {
    /// The id the next upload gets, or a refusal once the conversation holds the most.
    pub fn next_id(&self) -> Result<u32, Rejection> {
        if self.list.len() >= MAX_ATTACHMENTS_PER_CONVERSATION {
            return Err(Rejection::conflict(format!(
                "the conversation holds {MAX_ATTACHMENTS_PER_CONVERSATION} attachments, the most it may"
            )));
        }
        Ok(self.list.len() as u32 + 1)
    }

    /// An attachment.
    pub fn get(&self, id: u32) -> Option<&AttachmentRecord> {
        self.list.get(usize::try_from(id).ok()?.checked_sub(1)?)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Folds a stored attachment in.
    pub fn apply(&mut self, record: &AttachmentRecord) {
        debug_assert_eq!(
            record.id as usize,
            self.list.len() + 1,
            "attachments fold in order"
        );
        self.list.push(record.clone());
    }

    /// Checks that a file message names an attachment of this conversation, as it was
    /// stored: a client cannot point at another conversation's file, nor rename or
    /// retype one. Other bodies pass.
    pub fn check_body(&self, body: &Body) -> Result<(), Rejection> {
        let Body::File {
            attachment_id,
            name,
            content_type,
            size,
        } = body
        else {
            return Ok(());
        };
        let Some(stored) = self.get(*attachment_id) else {
            return Err(Rejection::invalid(
                "body.attachmentId",
                format!(
                    "{attachment_id} is not an attachment of this conversation: upload the file first"
                ),
            ));
        };
        let differs = |field: &'static str, what: &str| {
            Err(Rejection::invalid(
                field,
                format!("does not match attachment {attachment_id}'s {what}"),
            ))
        };
        if name != &stored.name {
            return differs("body.name", "name");
        }
        if content_type != &stored.content_type {
            return differs("body.contentType", "content type");
        }
        if *size != stored.size {
            return differs("body.size", "size");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0";
    const PE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";

    fn policy() -> Policy {
        Policy::default()
    }

    fn field(r: Result<Checked, Rejection>) -> &'static str {
        match r {
            Err(Rejection::Invalid { field, .. }) => field,
            other => panic!("not refused for a field: {other:?}"),
        }
    }

    #[test]
    fn a_png_named_png_passes_as_an_image() {
        let c = check_upload(&policy(), "shot.png", PNG).unwrap();
        assert_eq!(c.content_type, "image/png");
        assert_eq!(c.size, PNG.len() as u32);
        assert!(inline(&c.content_type));
    }

    #[test]
    fn plain_text_is_text_and_not_inline() {
        let c = check_upload(&policy(), "notes.txt", "hello\nworld\t!".as_bytes()).unwrap();
        assert_eq!(c.content_type, "text/plain");
        assert!(!inline(&c.content_type));
    }

    #[test]
    fn executables_disguised_as_images_are_refused_on_the_file() {
        assert_eq!(field(check_upload(&policy(), "cat.png", ELF)), "file");
        assert_eq!(field(check_upload(&policy(), "cat.png", PE)), "file");
    }

    #[test]
    fn a_name_that_lies_about_the_type_is_refused_on_the_name() {
        assert_eq!(field(check_upload(&policy(), "shot.pdf", PNG)), "name");
        assert_eq!(
            field(check_upload(&policy(), "notes.png", b"hello")),
            "name"
        );
    }

    #[test]
    fn paths_and_odd_names_are_refused() {
        for name in [
            "../x.png", "a/b.png", "a\\b.png", "..png", ".png", "x", "", "a\0.png", " a.png",
        ] {
            assert_eq!(
                field(check_upload(&policy(), name, PNG)),
                "name",
                "{name:?}"
            );
        }
        let long = format!("{}.png", "a".repeat(MAX_NAME_BYTES));
        assert_eq!(field(check_upload(&policy(), &long, PNG)), "name");
    }

    #[test]
    fn size_is_bounded_and_empty_refused() {
        let small = Policy {
            max_bytes: 10,
            ..Policy::default()
        };
        assert_eq!(field(check_upload(&small, "shot.png", PNG)), "file");
        assert_eq!(field(check_upload(&policy(), "empty.txt", b"")), "file");
    }

    #[test]
    fn the_allow_list_is_the_operators() {
        let only_pdf = Policy {
            allowed: vec!["application/pdf".to_owned()],
            ..Policy::default()
        };
        assert_eq!(field(check_upload(&only_pdf, "shot.png", PNG)), "file");
        assert!(check_upload(&only_pdf, "a.pdf", b"%PDF-1.7\n%\xe2\xe3").is_ok());
    }

    #[test]
    fn binary_of_no_known_type_is_refused() {
        assert_eq!(
            field(check_upload(&policy(), "a.txt", b"\x00\x01\x02\x03")),
            "file"
        );
    }

    fn record(id: u32) -> AttachmentRecord {
        AttachmentRecord {
            id,
            name: "shot.png".into(),
            content_type: "image/png".into(),
            size: 42,
            sha256: "00".into(),
            sender: Sender::User,
            at_ms: 1,
        }
    }

    #[test]
    fn a_file_body_must_match_a_stored_attachment() {
        let mut all = Attachments::default();
        assert_eq!(all.next_id().unwrap(), 1);
        all.apply(&record(1));
        assert_eq!(all.next_id().unwrap(), 2);
        let body = |id: u32, name: &str, size: u32| Body::File {
            attachment_id: id,
            name: name.into(),
            content_type: "image/png".into(),
            size,
        };
        assert!(all.check_body(&body(1, "shot.png", 42)).is_ok());
        let field = |r: Result<(), Rejection>| match r {
            Err(Rejection::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(all.check_body(&body(2, "shot.png", 42))),
            "body.attachmentId"
        );
        assert_eq!(
            field(all.check_body(&body(0, "shot.png", 42))),
            "body.attachmentId"
        );
        assert_eq!(
            field(all.check_body(&body(1, "other.png", 42))),
            "body.name"
        );
        assert_eq!(field(all.check_body(&body(1, "shot.png", 41))), "body.size");
    }

    proptest! {
        /// Whatever the bytes and the name, a check never panics, a refusal names `name`
        /// or `file`, and what passes is allowed, within the size and of a plain name.
        #[test]
        fn checks_hold_for_any_upload(name in "[a-z./\\\\ ]{0,12}(\\.(png|txt|pdf))?",
                                      bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let policy = Policy { max_bytes: 48, ..Policy::default() };
            match check_upload(&policy, &name, &bytes) {
                Ok(c) => {
                    prop_assert!(policy.allowed.contains(&c.content_type));
                    prop_assert!(c.size as u64 <= policy.max_bytes && c.size > 0);
                    prop_assert!(!c.name.contains('/') && !c.name.contains(".."));
                }
                Err(Rejection::Invalid { field, .. }) => prop_assert!(field == "name" || field == "file"),
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
