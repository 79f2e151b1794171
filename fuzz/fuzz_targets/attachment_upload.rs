//! An upload as `POST /api/v1/im/attachments` checks it: a file name and the raw bytes
//! (the first input byte says how long the name is). Never a panic; a refusal names `name`
//! or `file`; what passes is an allowed, sniffed type under a plain name within the size.
#![no_main]

use helpline::domain::Rejection;
use helpline::domain::attachment::{Policy, check_upload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let (name, bytes) = rest.split_at(usize::from(len).min(rest.len()));
    let name = String::from_utf8_lossy(name);
    let policy = Policy {
        max_bytes: 4096,
        ..Policy::default()
    };
    match check_upload(&policy, &name, bytes) {
        Ok(c) => {
            assert!(policy.allowed.contains(&c.content_type), "{c:?}");
            assert!(!name.contains(['/', '\\']) && !name.contains(".."), "{name:?}");
            assert!(c.size as u64 <= policy.max_bytes && c.size as usize == bytes.len());
            assert_ne!(c.content_type, "text/html");
        }
        Err(Rejection::Invalid { field, .. }) => assert!(field == "name" || field == "file", "{field}"),
        Err(other) => panic!("refused without a field: {other:?}"),
    }
});
