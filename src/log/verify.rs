//! `helpline log verify`: reads the whole log and says whether it can be trusted.
//!
//! It checks every record's checksum and decoding, that each frame's key is its first seq,
//! that seqs are dense across frames (no gap, no overlap, starting at 1), and that the
//! `by_stream` index agrees with the frames: every entry names the frame that holds its
//! seq, for its stream, and every event up to `indexed_through` has its entry. Problems are
//! collected, not thrown: the report lists them all (up to [`MAX_REPORTED_PROBLEMS`]).
//!
//! Memory: about 17 bytes per event (its stream and an "indexed" flag), so verifying
//! 100 M events takes ~1.7 GB. It is an offline tool; the engine never calls it.

use std::collections::HashSet;
use std::fmt;

use rkyv::rancor;
use sled::Tree;

use crate::domain::ids::StreamId;
use crate::log::LogError;
use crate::log::codec::{self, FORMAT_VERSION};
use crate::log::sled_log::{FORMAT_KEY, parse_index_key, parse_seq, parse_stream_key, storage};

/// Most problems a report lists; the rest are only counted.
pub const MAX_REPORTED_PROBLEMS: usize = 100;

/// What [`crate::log::EventLog::verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Frames read.
    pub frames: u64,
    /// Events read (that decoded).
    pub events: u64,
    /// The first seq (0 for an empty log).
    pub first_seq: u64,
    /// The last seq (0 for an empty log).
    pub last_seq: u64,
    /// Distinct streams among the events.
    pub streams: u64,
    /// Index entries checked (those up to `indexed_through`).
    pub index_entries: u64,
    /// The index mark the check used.
    pub indexed_through: u64,
    /// Everything wrong, one line each; empty for a sound log.
    pub problems: Vec<String>,
    /// Problems found beyond [`MAX_REPORTED_PROBLEMS`].
    pub problems_omitted: u64,
}

impl VerifyReport {
    /// No problem found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, problem: String) {
        if self.problems.len() < MAX_REPORTED_PROBLEMS {
            self.problems.push(problem);
        } else {
            self.problems_omitted += 1;
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} frames, {} events (seq {}..={}), {} streams, {} index entries checked (indexed through {})",
            self.frames,
            self.events,
            self.first_seq,
            self.last_seq,
            self.streams,
            self.index_entries,
            self.indexed_through
        )?;
        if self.is_clean() {
            return writeln!(f, "ok: no problems");
        }
        writeln!(
            f,
            "{} problems:",
            self.problems.len() as u64 + self.problems_omitted
        )?;
        for problem in &self.problems {
            writeln!(f, "  {problem}")?;
        }
        if self.problems_omitted > 0 {
            writeln!(f, "  ... and {} more", self.problems_omitted)?;
        }
        Ok(())
    }
}

/// The trees verification reads.
pub struct Trees<'a> {
    /// Frames.
    pub log: &'a Tree,
    /// The stream index.
    pub by_stream: &'a Tree,
    /// Snapshots.
    pub snapshots: &'a Tree,
    /// Format and index mark.
    pub meta: &'a Tree,
}

/// Verifies frames up to `durable_seq` and index entries up to `indexed_through` (read in
/// that order by the caller, so appends running meanwhile are simply not looked at).
/// `Err` only when the store cannot be read.
pub fn verify(
    trees: &Trees<'_>,
    indexed_through: u64,
    durable_seq: u64,
) -> Result<VerifyReport, LogError> {
    let mut report = VerifyReport {
        indexed_through,
        ..VerifyReport::default()
    };
    match trees.meta.get(FORMAT_KEY).map_err(storage("read format"))? {
        Some(found) if found == FORMAT_VERSION.as_bytes() => {}
        found => report.problem(format!(
            "meta format is {found:?}, expected {FORMAT_VERSION:?}"
        )),
    }

    let frames = check_frames(trees.log, durable_seq, &mut report)?;
    check_index(trees.by_stream, &frames, indexed_through, &mut report)?;
    check_snapshots(trees.snapshots, report.last_seq, &mut report)?;
    report.streams = frames
        .streams
        .iter()
        .flatten()
        .collect::<HashSet<_>>()
        .len() as u64;
    Ok(report)
}

/// What the frame pass learnt, for the index pass.
struct Frames {
    /// Frame keys in order.
    starts: Vec<u64>,
    /// The stream of seq `i + 1` (None where the log has no such event).
    streams: Vec<Option<StreamId>>,
}

fn check_frames(
    log: &Tree,
    durable_seq: u64,
    report: &mut VerifyReport,
) -> Result<Frames, LogError> {
    let mut frames = Frames {
        starts: Vec::new(),
        streams: Vec::new(),
    };
    let mut expected_first: u64 = 1;
    for item in log.iter() {
        let (key, frame) = item.map_err(storage("read frame"))?;
        let Some(first_seq) = parse_seq(&key) else {
            report.problem(format!("malformed frame key {key:?}"));
            continue;
        };
        if first_seq > durable_seq {
            // Written after verification began (or not yet durable).
            break;
        }
        report.frames += 1;
        frames.starts.push(first_seq);
        if first_seq != expected_first {
            let what = if first_seq > expected_first {
                "gap"
            } else {
                "overlap"
            };
            report.problem(format!(
                "{what}: frame {first_seq} follows events up to seq {}",
                expected_first - 1
            ));
        }

        let mut next_seq = first_seq;
        let checked = codec::visit_frame(&frame, |archived| {
            let seq = archived.seq.to_native();
            if seq != next_seq {
                return Err(format!(
                    "has seq {seq}, expected {next_seq} (frame key is its first seq)"
                ));
            }
            if seq > durable_seq {
                return Err(format!("seq {seq} is past the durable seq {durable_seq}"));
            }
            let stream = rkyv::deserialize::<StreamId, rancor::Error>(&archived.stream)
                .map_err(|e| e.to_string())?;
            codec::deserialize(archived)?;
            let at = (seq - 1) as usize;
            if frames.streams.len() <= at {
                frames.streams.resize(at + 1, None);
            }
            frames.streams[at] = Some(stream);
            next_seq += 1;
            Ok(())
        });
        let count = match checked {
            Ok(count) => count,
            Err(damage) => {
                report.problem(format!("frame {first_seq}: {}", damage.reason));
                damage.good_records
            }
        };
        if count == 0 {
            report.problem(format!("frame {first_seq} holds no readable record"));
        }
        report.events += count as u64;
        if report.first_seq == 0 && count > 0 {
            report.first_seq = first_seq;
        }
        report.last_seq = report.last_seq.max(next_seq - 1);
        expected_first = next_seq.max(expected_first);
    }
    Ok(frames)
}

fn check_index(
    by_stream: &Tree,
    frames: &Frames,
    indexed_through: u64,
    report: &mut VerifyReport,
) -> Result<(), LogError> {
    if indexed_through > report.last_seq {
        report.problem(format!(
            "indexed_through {indexed_through} is past the last seq {}",
            report.last_seq
        ));
    }
    let mut indexed = vec![false; frames.streams.len()];
    for item in by_stream.iter() {
        let (key, value) = item.map_err(storage("read stream index"))?;
        let Some((stream, seq)) = parse_index_key(&key) else {
            report.problem(format!("malformed index key {key:?}"));
            continue;
        };
        if seq > indexed_through {
            // Past the mark: possibly still being written.
            continue;
        }
        report.index_entries += 1;
        let Some(frame) = parse_seq(&value) else {
            report.problem(format!(
                "index entry {stream} seq {seq}: malformed frame key {value:?}"
            ));
            continue;
        };
        let Some(found) = seq
            .checked_sub(1)
            .and_then(|i| frames.streams.get(i as usize))
            .copied()
            .flatten()
        else {
            report.problem(format!(
                "index entry {stream} seq {seq}: the log has no event {seq}"
            ));
            continue;
        };
        if found != stream {
            report.problem(format!(
                "index entry {stream} seq {seq}: event {seq} belongs to {found}"
            ));
            continue;
        }
        let holder = frames.starts[frames.starts.partition_point(|&start| start <= seq) - 1];
        if frame != holder {
            report.problem(format!("index entry {stream} seq {seq}: names frame {frame}, the event is in frame {holder}"));
            continue;
        }
        indexed[(seq - 1) as usize] = true;
    }
    let through = (indexed_through as usize).min(frames.streams.len());
    for (i, stream) in frames.streams[..through].iter().enumerate() {
        if let (Some(stream), false) = (stream, indexed[i]) {
            report.problem(format!(
                "event {} of {stream} is not in the stream index",
                i + 1
            ));
        }
    }
    Ok(())
}

fn check_snapshots(
    snapshots: &Tree,
    last_seq: u64,
    report: &mut VerifyReport,
) -> Result<(), LogError> {
    for item in snapshots.iter() {
        let (key, value) = item.map_err(storage("read snapshot"))?;
        let Some(stream) = parse_stream_key(&key) else {
            report.problem(format!("malformed snapshot key {key:?}"));
            continue;
        };
        match value.get(..8).and_then(parse_seq) {
            None => report.problem(format!(
                "snapshot of {stream}: {} bytes, too short for its seq",
                value.len()
            )),
            Some(seq) if seq > last_seq => report.problem(format!(
                "snapshot of {stream} covers seq {seq}, past the last seq {last_seq}"
            )),
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{Envelope, Event};
    use crate::domain::ids::{AppId, SessionId};
    use crate::log::sled_log::{frame_key, index_key, stream_key};

    /// A log in a temporary sled database, built by hand so it can be broken by hand.
    struct Fixture {
        _db: sled::Db,
        log: Tree,
        by_stream: Tree,
        snapshots: Tree,
        meta: Tree,
    }

    impl Fixture {
        /// Frames of `sizes` events each, seqs from 1, stream = seq % 2, all indexed.
        fn new(sizes: &[u64]) -> Self {
            let db = sled::Config::new().temporary(true).open().unwrap();
            let tree = |name: &str| db.open_tree(name).unwrap();
            let fixture = Self {
                log: tree("log"),
                by_stream: tree("by_stream"),
                snapshots: tree("snapshots"),
                meta: tree("meta"),
                _db: db,
            };
            fixture
                .meta
                .insert(FORMAT_KEY, FORMAT_VERSION.as_bytes())
                .unwrap();
            let mut seq = 1;
            for &size in sizes {
                fixture.put_frame(seq, seq, size);
                for s in seq..seq + size {
                    fixture
                        .by_stream
                        .insert(index_key(stream(s), s), &frame_key(seq))
                        .unwrap();
                }
                seq += size;
            }
            fixture
        }

        /// Writes a frame under `key` holding seqs `first..first + size`.
        fn put_frame(&self, key: u64, first: u64, size: u64) {
            let envelopes: Vec<_> = (first..first + size).map(envelope).collect();
            self.log
                .insert(frame_key(key), codec::encode_frame(&envelopes).unwrap())
                .unwrap();
        }

        fn verify(&self, indexed_through: u64, durable_seq: u64) -> VerifyReport {
            let trees = Trees {
                log: &self.log,
                by_stream: &self.by_stream,
                snapshots: &self.snapshots,
                meta: &self.meta,
            };
            verify(&trees, indexed_through, durable_seq).unwrap()
        }
    }

    fn stream(seq: u64) -> StreamId {
        StreamId::session(SessionId(seq % 2))
    }

    fn envelope(seq: u64) -> Envelope {
        Envelope {
            seq,
            at_ms: 0,
            app: AppId(1),
            stream: stream(seq),
            event: Event::SessionUserMessage {
                text: format!("e{seq}"),
            },
        }
    }

    fn assert_problem(report: &VerifyReport, needle: &str) {
        assert!(
            report.problems.iter().any(|p| p.contains(needle)),
            "no problem with {needle:?} in:\n{report}"
        );
    }

    #[test]
    fn a_sound_log_verifies_clean() {
        let report = Fixture::new(&[3, 1, 4]).verify(8, 8);
        assert!(report.is_clean(), "{report}");
        assert_eq!(
            (
                report.frames,
                report.events,
                report.first_seq,
                report.last_seq
            ),
            (3, 8, 1, 8)
        );
        assert_eq!((report.streams, report.index_entries), (2, 8));
        assert!(report.to_string().contains("ok: no problems"));
    }

    #[test]
    fn a_gap_between_frames_is_found() {
        let fixture = Fixture::new(&[3]);
        fixture.put_frame(6, 6, 2);
        let report = fixture.verify(3, 7);
        assert_problem(&report, "gap: frame 6 follows events up to seq 3");
    }

    #[test]
    fn an_overlap_and_a_wrong_frame_key_are_found() {
        let fixture = Fixture::new(&[3]);
        fixture.put_frame(4, 3, 2);
        let report = fixture.verify(3, 5);
        assert_problem(&report, "has seq 3, expected 4");
        let fixture = Fixture::new(&[3]);
        fixture.put_frame(3, 3, 2);
        assert_problem(&fixture.verify(3, 4), "overlap: frame 3");
    }

    #[test]
    fn a_bad_checksum_is_found() {
        let fixture = Fixture::new(&[2, 2]);
        let mut frame = fixture.log.get(frame_key(3)).unwrap().unwrap().to_vec();
        frame[12] ^= 1;
        fixture.log.insert(frame_key(3), frame).unwrap();
        let report = fixture.verify(4, 4);
        assert_problem(&report, "frame 3: record 0 at byte 0: checksum mismatch");
        assert_eq!(report.events, 2);
    }

    #[test]
    fn index_disagreements_are_found() {
        let fixture = Fixture::new(&[2, 2]);
        // Seq 4 is in frame 3, on stream 0.
        fixture
            .by_stream
            .insert(index_key(stream(4), 4), &frame_key(1))
            .unwrap();
        fixture
            .by_stream
            .insert(index_key(stream(3), 4), &frame_key(3))
            .unwrap();
        fixture
            .by_stream
            .insert(index_key(stream(9), 9), &frame_key(3))
            .unwrap();
        fixture.by_stream.remove(index_key(stream(2), 2)).unwrap();
        let report = fixture.verify(9, 4);
        assert_problem(&report, "names frame 1, the event is in frame 3");
        assert_problem(&report, "event 4 belongs to session-0");
        assert_problem(&report, "the log has no event 9");
        assert_problem(&report, "event 2 of session-0 is not in the stream index");
        assert_problem(&report, "indexed_through 9 is past the last seq 4");
    }

    #[test]
    fn entries_past_the_index_mark_and_frames_past_the_durable_seq_are_not_judged() {
        let fixture = Fixture::new(&[2, 2]);
        fixture.by_stream.remove(index_key(stream(4), 4)).unwrap();
        fixture
            .by_stream
            .insert(index_key(stream(3), 4), &frame_key(1))
            .unwrap();
        fixture.put_frame(5, 5, 3);
        let report = fixture.verify(2, 4);
        assert!(report.is_clean(), "{report}");
        assert_eq!(report.last_seq, 4);
    }

    #[test]
    fn a_wrong_format_and_a_snapshot_past_the_end_are_found() {
        let fixture = Fixture::new(&[2]);
        fixture.meta.insert(FORMAT_KEY, "helpline-log/0").unwrap();
        fixture
            .snapshots
            .insert(stream_key(stream(1)), &9u64.to_be_bytes())
            .unwrap();
        let report = fixture.verify(2, 2);
        assert_problem(&report, "expected \"helpline-log/1\"");
        assert_problem(&report, "covers seq 9, past the last seq 2");
    }

    #[test]
    fn the_report_caps_its_problems() {
        let fixture = Fixture::new(&[200]);
        fixture.by_stream.clear().unwrap();
        let report = fixture.verify(200, 200);
        assert_eq!(
            (report.problems.len(), report.problems_omitted),
            (MAX_REPORTED_PROBLEMS, 100)
        );
        assert!(report.to_string().contains("... and 100 more"));
    }
}
