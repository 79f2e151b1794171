//! The log's bytes on disk: how one commit batch of envelopes becomes one frame, and back.
//!
//! A frame is the records of one batch, back to back. Each record is
//! `[u32 len][u32 crc32 of payload][payload][zero padding to 16 bytes]`, little endian, and
//! its payload is the rkyv archive of one [`Envelope`]. Padding every record to 16 bytes
//! keeps each payload at the same alignment relative to the frame start as the archive was
//! written with, so a frame copied once into an aligned buffer (or already aligned) is read
//! in place, zero-copy, record after record.
//!
//! Events are encoded on the appending thread (so the size limit is checked before the
//! event gets a seq, and the writer thread only copies bytes); the seq is stamped into the
//! archive afterwards, in place, because its position in the archive is fixed.

use std::ops::Deref;

use rkyv::rancor;
use rkyv::util::AlignedVec;

use crate::domain::event::{ArchivedEnvelope, Envelope};
use crate::log::{LogError, MAX_EVENT_BYTES};

/// The format this build writes and reads, stored in the log's `meta` at creation.
pub const FORMAT_VERSION: &str = "helpline-log/1";

/// Every record starts at a multiple of this many bytes from the frame start.
pub const RECORD_ALIGN: usize = 16;

/// Length and checksum, before each payload.
const HEADER_BYTES: usize = 8;
/// Most bytes a record takes in a frame beyond its payload (header and padding).
pub const RECORD_OVERHEAD: usize = HEADER_BYTES + RECORD_ALIGN - 1;

// A payload starts 8 bytes after a 16-aligned record start: that is enough for an archived
// envelope only while nothing in it needs more than 8-byte alignment.
const _: () = assert!(align_of::<ArchivedEnvelope>() <= HEADER_BYTES);

/// An archived envelope on its way into a frame (its seq is stamped later).
pub type EncodedEvent = AlignedVec;

/// Archives one envelope, refusing one larger than [`MAX_EVENT_BYTES`].
pub fn encode_event(envelope: &Envelope) -> Result<EncodedEvent, LogError> {
    let bytes = rkyv::to_bytes::<rancor::Error>(envelope).map_err(|e| {
        LogError::InvalidAppend(format!(
            "event {} cannot be encoded: {e}",
            envelope.event.name()
        ))
    })?;
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(LogError::InvalidAppend(format!(
            "event {} encodes to {} bytes, more than MAX_EVENT_BYTES ({MAX_EVENT_BYTES})",
            envelope.event.name(),
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// Writes `seq` into an archive made by [`encode_event`].
///
/// The root of an rkyv archive sits at its very end and `seq` is a fixed-width field of it,
/// so this is a plain 8-byte write: no re-encoding under the append lock.
pub fn stamp_seq(encoded: &mut [u8], seq: u64) {
    let root = rkyv::api::root_position::<ArchivedEnvelope>(encoded.len());
    let at = root + std::mem::offset_of!(ArchivedEnvelope, seq);
    // The format is little endian (rkyv's default); the codec tests pin it.
    encoded[at..at + 8].copy_from_slice(&seq.to_le_bytes());
}

/// Appends one record (header, payload, padding) to a frame being built.
pub fn push_record(frame: &mut Vec<u8>, payload: &[u8]) {
    debug_assert!(
        frame.len().is_multiple_of(RECORD_ALIGN),
        "records start aligned"
    );
    debug_assert!(
        payload.len() <= MAX_EVENT_BYTES,
        "payload size checked at encode"
    );
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    frame.extend_from_slice(payload);
    frame.resize(frame.len().next_multiple_of(RECORD_ALIGN), 0);
}

/// Encodes a batch of envelopes into one frame (tests and tools; the writer stamps seqs
/// into events encoded by the appenders and calls [`push_record`] itself).
pub fn encode_frame(envelopes: &[Envelope]) -> Result<Vec<u8>, LogError> {
    let mut frame = Vec::new();
    for envelope in envelopes {
        push_record(&mut frame, &encode_event(envelope)?);
    }
    Ok(frame)
}

/// Where and why a frame stops being readable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// Good records before the bad one.
    pub good_records: usize,
    /// Bytes those good records take: the frame cut back to its good prefix.
    pub good_bytes: usize,
    /// What is wrong with the first bad record.
    pub reason: String,
    /// The bytes are damaged (truncated, bad checksum, bad padding), as a torn or rotten
    /// write leaves them; false when the bytes are intact but do not decode or do not
    /// fit, which no crash produces (a bug, or a build that reads another format).
    pub torn: bool,
}

/// A frame's bytes at the alignment rkyv needs, copied only if they are not already.
pub enum AlignedFrame<'a> {
    /// The stored bytes happened to be aligned.
    Borrowed(&'a [u8]),
    /// A copy into an aligned buffer.
    Copied(AlignedVec),
}

impl<'a> AlignedFrame<'a> {
    /// Wraps `bytes`, copying them into an aligned buffer if they are not aligned.
    pub fn new(bytes: &'a [u8]) -> Self {
        if bytes.as_ptr().align_offset(RECORD_ALIGN) == 0 {
            return Self::Borrowed(bytes);
        }
        let mut copy = AlignedVec::with_capacity(bytes.len());
        copy.extend_from_slice(bytes);
        Self::Copied(copy)
    }
}

impl Deref for AlignedFrame<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Borrowed(bytes) => bytes,
            Self::Copied(vec) => vec,
        }
    }
}

/// Visits the archived envelopes of a frame in order, stopping at the first bad record
/// (damaged bytes, an archive that does not validate, or a record `visit` rejects with a
/// reason). Returns how many records it visited.
pub fn visit_frame(
    frame: &[u8],
    mut visit: impl FnMut(&ArchivedEnvelope) -> Result<(), String>,
) -> Result<usize, Damage> {
    let aligned = AlignedFrame::new(frame);
    let bytes: &[u8] = &aligned;
    let mut offset = 0;
    let mut index = 0;
    while offset < bytes.len() {
        let damage = |reason: String, torn: bool| Damage {
            good_records: index,
            good_bytes: offset,
            reason: format!("record {index} at byte {offset}: {reason}"),
            torn,
        };
        let (payload, end) = record_at(bytes, offset).map_err(|reason| damage(reason, true))?;
        let archived = rkyv::access::<ArchivedEnvelope, rancor::Error>(payload)
            .map_err(|e| damage(format!("does not decode: {e}"), false))?;
        visit(archived).map_err(|reason| damage(reason, false))?;
        offset = end;
        index += 1;
    }
    Ok(index)
}

/// Decodes every envelope of a frame, or says where it is damaged.
pub fn decode_frame(frame: &[u8]) -> Result<Vec<Envelope>, Damage> {
    let mut envelopes = Vec::new();
    visit_frame(frame, |archived| {
        envelopes.push(deserialize(archived)?);
        Ok(())
    })?;
    Ok(envelopes)
}

/// Turns an archived envelope into an owned one.
pub fn deserialize(archived: &ArchivedEnvelope) -> Result<Envelope, String> {
    rkyv::deserialize::<Envelope, rancor::Error>(archived)
        .map_err(|e| format!("does not deserialize: {e}"))
}

/// How many records start at or after byte `offset`, as far as their lengths can still be
/// read (at least one if any bytes are left): what cutting the frame there throws away.
pub fn records_from(frame: &[u8], mut offset: usize) -> u64 {
    let mut count = 0;
    while offset < frame.len() {
        count += 1;
        let Some(header) = frame.get(offset..offset + HEADER_BYTES) else {
            break;
        };
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        if len == 0 || len > MAX_EVENT_BYTES {
            break;
        }
        offset = (offset + HEADER_BYTES + len).next_multiple_of(RECORD_ALIGN);
    }
    count
}

/// The payload of the record starting at `offset` and where the next record starts,
/// checking length, padding and checksum.
fn record_at(frame: &[u8], offset: usize) -> Result<(&[u8], usize), String> {
    debug_assert!(offset.is_multiple_of(RECORD_ALIGN));
    let Some(header) = frame.get(offset..offset + HEADER_BYTES) else {
        return Err(format!(
            "truncated header ({} bytes left)",
            frame.len() - offset
        ));
    };
    let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
    if len == 0 || len > MAX_EVENT_BYTES {
        return Err(format!("length {len} is outside 1..={MAX_EVENT_BYTES}"));
    }
    let start = offset + HEADER_BYTES;
    let end = (start + len).next_multiple_of(RECORD_ALIGN);
    if end > frame.len() {
        return Err(format!(
            "truncated: length {len} runs past the frame end ({} bytes)",
            frame.len()
        ));
    }
    let payload = &frame[start..start + len];
    if crc32fast::hash(payload) != crc {
        return Err(format!("checksum mismatch (stored {crc:#010x})"));
    }
    if frame[start + len..end].iter().any(|&b| b != 0) {
        return Err("non-zero padding".to_owned());
    }
    Ok((payload, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::Event;
    use crate::domain::ids::{AppId, SessionId, StreamId};

    fn envelope(seq: u64, text: &str) -> Envelope {
        Envelope {
            seq,
            at_ms: 1_700_000_000_000 + seq as i64,
            app: AppId(7),
            stream: StreamId::session(SessionId(seq % 3)),
            event: Event::SessionUserMessage {
                text: text.to_owned(),
            },
        }
    }

    fn batch(n: u64) -> Vec<Envelope> {
        (1..=n)
            .map(|seq| envelope(seq, &"x".repeat(seq as usize * 7)))
            .collect()
    }

    #[test]
    fn frame_round_trips() {
        let envelopes = batch(20);
        let frame = encode_frame(&envelopes).unwrap();
        assert_eq!(frame.len() % RECORD_ALIGN, 0);
        assert_eq!(decode_frame(&frame).unwrap(), envelopes);
    }

    #[test]
    fn an_unaligned_frame_is_copied_and_still_decodes() {
        let envelopes = batch(5);
        let frame = encode_frame(&envelopes).unwrap();
        let mut shifted = vec![0u8; frame.len() + 1];
        shifted[1..].copy_from_slice(&frame);
        let unaligned = &shifted[1..];
        assert!(matches!(
            AlignedFrame::new(unaligned),
            AlignedFrame::Copied(_)
        ));
        assert_eq!(decode_frame(unaligned).unwrap(), envelopes);
    }

    #[test]
    fn stamped_seq_is_the_decoded_seq() {
        // Pins the little-endian, fixed-position seq field that `stamp_seq` relies on.
        let mut encoded = encode_event(&envelope(0, "hello")).unwrap();
        stamp_seq(&mut encoded, 0x0102_0304_0506_0708);
        let mut frame = Vec::new();
        push_record(&mut frame, &encoded);
        let decoded = decode_frame(&frame).unwrap();
        assert_eq!(decoded[0].seq, 0x0102_0304_0506_0708);
        assert_eq!(
            decoded[0].event,
            Event::SessionUserMessage {
                text: "hello".into()
            }
        );
    }

    #[test]
    fn an_oversized_event_is_refused() {
        let big = envelope(1, &"y".repeat(MAX_EVENT_BYTES));
        let err = encode_event(&big).unwrap_err();
        assert!(
            matches!(err, LogError::InvalidAppend(ref m) if m.contains("MAX_EVENT_BYTES")),
            "{err}"
        );
    }

    #[test]
    fn a_bad_checksum_reports_the_good_prefix() {
        let envelopes = batch(4);
        let mut frame = encode_frame(&envelopes).unwrap();
        let good_bytes = encode_frame(&envelopes[..2]).unwrap().len();
        frame[good_bytes + HEADER_BYTES + 3] ^= 0xff;
        let damage = decode_frame(&frame).unwrap_err();
        assert_eq!(
            (damage.good_records, damage.good_bytes, damage.torn),
            (2, good_bytes, true)
        );
        assert!(damage.reason.contains("checksum"), "{}", damage.reason);
        assert_eq!(
            records_from(&frame, damage.good_bytes),
            2,
            "the bad record and the one after it"
        );
        assert_eq!(
            decode_frame(&frame[..damage.good_bytes]).unwrap(),
            envelopes[..2]
        );
    }

    #[test]
    fn a_truncated_frame_reports_the_good_prefix() {
        let envelopes = batch(3);
        let frame = encode_frame(&envelopes).unwrap();
        let good_bytes = encode_frame(&envelopes[..2]).unwrap().len();
        for cut in [
            good_bytes + 3,
            good_bytes + HEADER_BYTES + 1,
            frame.len() - 1,
        ] {
            let damage = decode_frame(&frame[..cut]).unwrap_err();
            assert_eq!(
                (damage.good_records, damage.good_bytes, damage.torn),
                (2, good_bytes, true),
                "cut {cut}"
            );
            assert!(damage.reason.contains("truncated"), "{}", damage.reason);
        }
    }

    #[test]
    fn garbage_with_a_valid_checksum_is_undecodable_not_torn() {
        let payload = vec![0xabu8; 64];
        let mut frame = Vec::new();
        push_record(&mut frame, &payload);
        let damage = decode_frame(&frame).unwrap_err();
        assert_eq!((damage.good_records, damage.torn), (0, false));
        assert!(
            damage.reason.contains("does not decode"),
            "{}",
            damage.reason
        );
    }

    #[test]
    fn a_visitor_can_reject_a_record() {
        let frame = encode_frame(&batch(3)).unwrap();
        let damage = visit_frame(&frame, |a| {
            if a.seq == 3 {
                Err("seq 3 unwanted".into())
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!((damage.good_records, damage.torn), (2, false));
    }

    #[test]
    fn an_empty_frame_has_no_records() {
        assert_eq!(decode_frame(&[]).unwrap(), Vec::<Envelope>::new());
    }
}
