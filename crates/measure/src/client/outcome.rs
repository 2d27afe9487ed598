//! What a request's result means: the short names of transport failures,
//! and which statuses count as errors, by the load generators' rule and by
//! the stricter rule of the burst and the CPU probe.

/// The error kind of a request that ran out of time: a server that never
/// answers, or stalls in the middle of its answer.
pub const TIMEOUT_KIND: &str = "timeout";
/// The server closed the connection before the first byte of its answer
/// (on a kept-alive connection: it took the request, then hung up).
pub const CLOSED_BEFORE_ANSWER: &str = "closed before answering";
/// The server closed the connection inside its answer: a head cut short,
/// or fewer body bytes than its `Content-Length` said.
pub const CLOSED_MID_ANSWER: &str = "closed mid-answer";
/// What came back does not parse as an HTTP/1.x answer (garbage, a bad
/// header, a length that is no number).
pub const NOT_HTTP: &str = "not HTTP";
/// An answer's head longer than the client reads ([`super::raw::MAX_HEAD`]).
pub const HEAD_TOO_LONG: &str = "head too long";
/// An answer's body longer than the client reads ([`super::raw::MAX_BODY`]):
/// an endless body ends here instead of at the timeout, and is never stored.
pub const BODY_TOO_LONG: &str = "body too long";

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
        // hyper says the same whether no byte or half a head came first.
        CLOSED_MID_ANSWER
    } else if e.is_closed() || e.is_canceled() {
        CLOSED_BEFORE_ANSWER
    } else if e.is_parse_too_large() {
        HEAD_TOO_LONG
    } else if e.is_parse() || e.is_parse_status() {
        NOT_HTTP
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
        UnexpectedEof => CLOSED_MID_ANSWER,
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
