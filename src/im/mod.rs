//! The user end: how an app's users reach the desk. User tokens (the app's backend vouches
//! for its users with an HMAC-signed token, so helpline keeps no user database), the desk's
//! custom-message protocol (`shared/PROTOCOL.md`) as pure parse and write functions, and the
//! hub that stores conversations, serves sockets and wires conversations to sessions.

pub mod attachments;
pub mod faq;
pub mod feed;
pub mod flows;
pub mod hub;
pub mod outbound;
pub mod protocol;
pub mod token;
