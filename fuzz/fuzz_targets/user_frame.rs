//! A user's WebSocket frame, read as `/ws/im` reads it: never a panic, and a refusal always
//! names the field at fault.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = helpline::api::ws::check_user_frame(text) {
        assert!(e.body().error.field.is_some(), "{e}");
    }
});
