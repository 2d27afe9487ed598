//! What a request's result means: the short names of transport failures,
//! and which statuses count as errors, by the load generators' rule and by
//! the stricter rule of the burst and the CPU probe.

/// The error kind of a request that ran out of time.
pub const TIMEOUT_KIND: &str = "timeout";

/// A short, stable name for a transport failure, used as a key of
/// `error_kinds` by every generator. `&'static str` so that counting an
/// error allocates nothing. Takes any error (an io error, hyper's) and walks
/// its chain of causes.
pub fn error_kind(e: &(dyn std::error::Error + 'static)) -> &'static str {
    // The io::Error deep in the chain is the most precise cause there is.
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        source = s.source();
    }
    // hyper's own kinds, innermost first.
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return hyper_reason(h);
        }
        source = s.source();
    }
    "other error"
}

fn hyper_reason(e: &hyper::Error) -> &'static str {
    if e.is_timeout() {
        TIMEOUT_KIND
    } else if e.is_incomplete_message() {
        "connection closed early"
    } else if e.is_closed() || e.is_canceled() {
        "connection closed"
    } else if e.is_parse() || e.is_parse_status() {
        "bad response"
    } else {
        "http error"
    }
}

/// Names the io errors a load test meets; "connect refused" is the one a
/// person most needs to recognise.
pub(crate) fn io_reason(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connect refused",
        ConnectionReset => "connection reset",
        ConnectionAborted => "connection aborted",
        BrokenPipe => "broken pipe",
        TimedOut => TIMEOUT_KIND,
        UnexpectedEof => "connection closed early",
        AddrNotAvailable => "address not available (out of local ports?)",
        NotFound => "host not found",
        _ => "io error",
    }
}

/// The load generators' rule (bench and attack): a response counts as an
/// error when the server failed (5xx). A client error (4xx) does not: a 404
/// or a 429 is an answer the server chose to give, at full speed, and a load
/// test of any URL must be able to measure it. Every status is still listed
/// in `status_counts`, so a run of 404s is plain to see.
pub fn is_server_error(status: u16) -> bool {
    status >= 500
}

/// The burst's and the CPU probe's rule, stricter: only a 2xx is a success,
/// anything else is an error. They ask the kit's own servers for the
/// contract's endpoints, which must answer 2xx; a 404 there means a wrong
/// path or a broken server, and counting it as a fast answer would make the
/// broken server look fast in the slot table.
pub fn is_contract_answer(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_5xx_is_a_load_error_and_only_2xx_keeps_the_contract() {
        assert!(!is_server_error(200));
        assert!(!is_server_error(404));
        assert!(!is_server_error(429));
        assert!(is_server_error(500));
        assert!(is_server_error(503));
        assert!(is_contract_answer(200) && is_contract_answer(204));
        assert!(!is_contract_answer(301) && !is_contract_answer(404) && !is_contract_answer(500));
    }
}
