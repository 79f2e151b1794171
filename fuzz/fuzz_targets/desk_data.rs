//! A custom message's `data` as a user sends it: the desk protocol's parser never panics, and
//! what it accepts writes back to data it accepts again as the same message.
#![no_main]

use helpline::im::protocol::DeskMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(message) = DeskMessage::parse_from_user(text) {
        let written = message.to_value().to_string();
        let again = DeskMessage::parse_from_user(&written).expect("written data reads back");
        assert_eq!(again, message);
    }
});
