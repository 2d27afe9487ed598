//! Property tests of the two parsers a server runs on input it does not
//! control: the query string of every request (`Query::parse`) and the
//! shared flags (`CommonArgs`, through clap).
//!
//! The promises: no input panics; every refused query is a 400 whose body
//! is JSON `{"error": ...}` and short; every refused flag is a usage error
//! (exit code 2) that names the flag; and what is accepted means exactly
//! what it says. Case counts are bounded so the file runs in about a second.

use std::time::Duration;

use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{ErrorBody, Query, MAX_CPU_ROUNDS, MAX_WAIT_MS};
use proptest::prelude::*;

fn settings() -> Query {
    Query {
        variant: "prop",
        io_wait: Duration::from_millis(500),
        db_wait: Duration::from_millis(300),
        cpu_rounds: 10,
    }
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 512, ..ProptestConfig::default() }
}

/// A refusal as a server sends it: status 400, and a body that is JSON of
/// the contract's error shape, short enough to read.
fn assert_json_400(query: &str, err: &kit_serve::contract::ApiError) {
    assert_eq!(err.status, 400, "{query:?}: {err}");
    let json = serde_json::to_string(&err.body()).expect("serializes");
    let back: ErrorBody = serde_json::from_str(&json).expect("the body is JSON of the error shape");
    assert_eq!(back.error, err.message);
    assert!(
        !err.message.is_empty() && err.message.len() < 300,
        "{query:?}: {} bytes",
        err.message.len()
    );
    assert!(
        !err.message.chars().any(char::is_control),
        "{query:?}: control characters in {:?}",
        err.message
    );
}

/// Text near the query grammar: keys, '=', '&', '%' escapes, digits, signs.
fn query_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("io_ms".to_string()),
        Just("db_ms".to_string()),
        Just("cpu_rounds".to_string()),
        Just("=".to_string()),
        Just("&".to_string()),
        Just("%".to_string()),
        Just("+".to_string()),
        Just("-".to_string()),
        "[0-9]{1,25}",
        "%[0-9a-fA-FgG]{0,2}",
        "\\PC{0,4}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_query_panics_and_every_refusal_is_a_json_400(query in prop_oneof![query_like(), "\\PC{0,64}", ".{0,64}", "[\\x00-\\x1f%=a-z_]{0,120}"]) {
        if let Err(err) = Query::parse(Some(&query), &settings()) {
            assert_json_400(&query, &err);
        }
    }

    /// The 404 and 405 quote the path: escaped and short whatever it holds
    /// (the fuzz target found 40 control bytes escaping to 334).
    #[test]
    fn every_unknown_path_is_a_short_json_404(path in prop_oneof![".{0,200}", "/[\\x00-\\x1f]{0,100}"]) {
        use kit_serve::contract::{route, Endpoint};
        if let Err(err) = route("GET", &path, &Endpoint::SHARED) {
            prop_assert_eq!(err.status, 404);
            let json = serde_json::to_string(&err.body()).expect("serializes");
            prop_assert!(serde_json::from_str::<ErrorBody>(&json).is_ok());
            prop_assert!(err.message.len() < 300 && !err.message.chars().any(char::is_control), "{:?}", err.message);
        }
    }

    #[test]
    fn an_accepted_query_means_what_it_says(
        io in prop::option::of(0..=MAX_WAIT_MS),
        db in prop::option::of(0..=MAX_WAIT_MS),
        cpu in prop::option::of(1..=MAX_CPU_ROUNDS),
        encode in any::<bool>(),
        reverse in any::<bool>(),
    ) {
        // Percent-encoding every digit must not change the meaning.
        let show = |n: u64| if encode { n.to_string().bytes().map(|b| format!("%{b:02X}")).collect() } else { n.to_string() };
        let mut pairs: Vec<String> = [("io_ms", io), ("db_ms", db), ("cpu_rounds", cpu)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", show(v))))
            .collect();
        if reverse {
            pairs.reverse();
        }
        let query = pairs.join("&");
        let p = Query::parse(Some(&query), &settings()).unwrap_or_else(|e| panic!("{query}: {e}"));
        prop_assert_eq!(p.io_wait, io.map_or(settings().io_wait, Duration::from_millis));
        prop_assert_eq!(p.db_wait, db.map_or(settings().db_wait, Duration::from_millis));
        prop_assert_eq!(p.cpu_rounds, cpu.unwrap_or(settings().cpu_rounds));
    }

    #[test]
    fn out_of_range_or_repeated_values_are_refused(
        key in prop::sample::select(vec!["io_ms", "db_ms", "cpu_rounds"]),
        over in 1..u64::MAX / 2,
        a in 1..1000u64,
        b in 1..1000u64,
    ) {
        let max = if key == "cpu_rounds" { MAX_CPU_ROUNDS } else { MAX_WAIT_MS };
        let query = format!("{key}={}", max.saturating_add(over));
        let err = Query::parse(Some(&query), &settings()).unwrap_err();
        assert_json_400(&query, &err);
        let query = format!("{key}={a}&{key}={b}");
        let err = Query::parse(Some(&query), &settings()).unwrap_err();
        assert_json_400(&query, &err);
        prop_assert!(err.message.contains("more than once"), "{}", err.message);
    }
}

/// The flags as a server binary sees them.
#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_flag_value_panics_and_bad_ones_are_usage_errors(
        flag in prop::sample::select(vec!["--io-ms", "--db-ms", "--cpu-rounds", "--port", "--host"]),
        value in prop_oneof!["-?[0-9]{1,22}", "\\PC{0,12}", "[0-9]+\\.[0-9]+"],
    ) {
        // `--flag=value`, so a value that starts with '-' stays a value.
        let arg = format!("{flag}={value}");
        match Cli::try_parse_from(["server", arg.as_str()]) {
            Ok(cli) => {
                let c = cli.common;
                // clap reads a u16 through an i64 (so `-0` is 0) and a u64 directly.
                let number = value.parse::<u64>().ok().or_else(|| value.parse::<i64>().ok().and_then(|n| u64::try_from(n).ok()));
                match flag {
                    "--io-ms" => prop_assert_eq!(Some(c.io_ms), number.filter(|n| *n <= MAX_WAIT_MS)),
                    "--db-ms" => prop_assert_eq!(Some(c.db_ms), number.filter(|n| *n <= MAX_WAIT_MS)),
                    "--cpu-rounds" => prop_assert_eq!(Some(c.cpu_rounds), number.filter(|n| (1..=MAX_CPU_ROUNDS).contains(n))),
                    "--port" => prop_assert_eq!(Some(u64::from(c.port)), number),
                    _ => prop_assert_eq!(c.host, value),
                }
            }
            Err(e) => {
                // clap's usage errors exit 2, and the message names the flag.
                prop_assert_eq!(e.exit_code(), 2, "{}", e);
                prop_assert!(e.to_string().contains(flag), "{arg}: {e}");
            }
        }
    }

    #[test]
    fn no_argument_list_panics(args in prop::collection::vec("\\PC{0,16}", 0..6)) {
        if let Err(e) = Cli::try_parse_from(std::iter::once("server".to_string()).chain(args)) {
            // --help and --version are not errors to the user: exit 0.
            prop_assert!(matches!(e.exit_code(), 0 | 2), "{e}");
        }
    }
}
