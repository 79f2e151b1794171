//! The user end: how an app's users reach the desk. So far: user tokens (the app's backend
//! vouches for its users with an HMAC-signed token, so helpline keeps no user database).
//! The IM transport, the desk's custom-message protocol and the website channel backend
//! follow (issue 4).

pub mod token;
