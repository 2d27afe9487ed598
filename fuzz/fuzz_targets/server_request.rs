//! sync-blocking's own reading of a request (`kit_blocking::request`): any
//! bytes a client can send, the body cut into pieces of any size. The
//! promises: nothing panics; a refusal has one of the statuses the table in
//! docs/http.md names; a head is never longer than the bytes given or the
//! limit; the body takes no byte it was not given; and the body reads the
//! same whole as in pieces (a server reads what arrives when it arrives).
#![no_main]

use kit_blocking::request::{parse_head, Body, MAX_HEAD};
use kit_serve::http_rules::Framing;
use libfuzzer_sys::fuzz_target;

/// Feeds `bytes` to a body `piece` bytes at a time: what it took, and
/// whether it ended, or the status it refused with.
fn read(framing: Framing, bytes: &[u8], piece: usize) -> Result<(usize, bool), u16> {
    let mut body = Body::new(framing);
    let mut pending = Vec::new();
    let mut taken = 0;
    let mut pieces = bytes.chunks(piece).peekable();
    loop {
        if let Some(piece) = pieces.next() {
            pending.extend_from_slice(piece);
        }
        let (used, done) = body.feed(&pending).map_err(|e| e.status)?;
        assert!(used <= pending.len(), "took {used} of {} bytes", pending.len());
        taken += used;
        pending.drain(..used);
        if done || pieces.peek().is_none() {
            return Ok((taken, done));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the size of the body's pieces.
    let Some((&step, data)) = data.split_first() else {
        return;
    };
    match parse_head(data) {
        Err(e) => assert!(matches!(e.status, 400 | 413 | 414 | 431 | 501), "{} {}", e.status, e.message),
        Ok(None) => assert!(data.len() < MAX_HEAD),
        Ok(Some((head, len))) => {
            assert!(len <= data.len() && len <= MAX_HEAD);
            let rest = &data[len..];
            let whole = read(head.framing, rest, rest.len().max(1));
            let pieces = read(head.framing, rest, usize::from(step % 8) + 1);
            assert_eq!(whole, pieces, "whole and in pieces disagree");
            if let Err(status) = whole {
                assert!(matches!(status, 400 | 413 | 431), "{status}");
            }
        }
    }
});
