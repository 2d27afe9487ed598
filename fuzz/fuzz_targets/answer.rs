//! Any bytes a server can send back, in any pieces, through the burst's
//! answer reader (`kit_measure::client::raw::AnswerReader`), the HTTP
//! reading that is the kit's own. The promises, as in its unit tests:
//! nothing panics, the verdict does not depend on how the bytes were cut
//! into pieces, an error is one of the client's named kinds, and the reader
//! never holds more than `MAX_HEAD` and one piece.
#![no_main]

use kit_measure::client::outcome::{
    BODY_TOO_LONG, CLOSED_BEFORE_ANSWER, CLOSED_MID_ANSWER, HEAD_TOO_LONG, NOT_HTTP,
};
use kit_measure::client::raw::{AnswerReader, MAX_HEAD};
use libfuzzer_sys::fuzz_target;

const KINDS: [&str; 5] =
    [BODY_TOO_LONG, CLOSED_BEFORE_ANSWER, CLOSED_MID_ANSWER, HEAD_TOO_LONG, NOT_HTTP];

/// Feeds `data` cut after each length in `cuts` (cycled), then ends it.
fn read(data: &[u8], cuts: &[u8]) -> Result<u16, &'static str> {
    let mut reader = AnswerReader::default();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let size = cuts.get(i % cuts.len().max(1)).map_or(rest.len(), |&c| usize::from(c).max(1));
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        if let Some(status) = reader.feed(piece)? {
            return Ok(status);
        }
        assert!(reader.held() <= MAX_HEAD + piece.len(), "holds {} bytes", reader.held());
        rest = tail;
        i += 1;
    }
    reader.end()
}

fuzz_target!(|input: &[u8]| {
    // The first byte says how many of the next are cut sizes.
    let Some((&n, rest)) = input.split_first() else { return };
    let (cuts, data) = rest.split_at(usize::from(n % 16).min(rest.len()));
    let whole = read(data, &[]);
    let pieces = read(data, cuts);
    assert_eq!(whole, pieces, "cut as {cuts:?}");
    match whole {
        Ok(status) => assert!((100..=999).contains(&status), "status {status}"),
        Err(kind) => assert!(KINDS.contains(&kind), "unnamed kind {kind}"),
    }
});
