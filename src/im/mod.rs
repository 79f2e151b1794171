//! The user end: how an app's users reach the desk. So far: user tokens (the app's backend
//! vouches for its users with an HMAC-signed token, so helpline keeps no user database) and
//! the desk's custom-message protocol (`shared/PROTOCOL.md`) as pure parse and write
//! functions. The IM transport, the session wiring and the website channel backend follow
//! (issue 4).

pub mod protocol;
pub mod token;
