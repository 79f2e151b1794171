//! (being written)
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub frames: u64,
    pub events: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub streams: u64,
    pub problems: Vec<String>,
}
