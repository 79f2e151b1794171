//! A custom message's `data` as a user sends it: the widened reader (ordinary custom
//! messages, unknown fields kept) never panics, and a desk message it accepts writes back to
//! data it accepts again as the same message.
#![no_main]

use helpline::im::protocol::DeskMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(Some(message)) = DeskMessage::read_user_data(text) {
        let written = message.to_value().to_string();
        let again = DeskMessage::read_user_data(&written).expect("written data reads back");
        assert_eq!(again, Some(message));
    }
});
