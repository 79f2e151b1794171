//! (being written)
pub const FORMAT_VERSION: &str = "helpline-log/1";
