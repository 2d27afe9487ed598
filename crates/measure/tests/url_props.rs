//! Property tests of the load generators' URL parser (`validate_url`), the
//! first thing `kit bench`, `kit attack` and `kit stress` do with what a
//! person typed: no input panics; a refusal quotes the URL it refuses; an
//! accepted URL splits into exactly the pieces it was built from. Bounded
//! case counts: the file runs in well under a second.

use kit_measure::client::url::validate_url;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 1024, ..ProptestConfig::default() }
}

/// Text near the URL grammar: schemes, brackets, colons, ports, paths.
fn url_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("http://".to_string()),
        Just("https://".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(":".to_string()),
        Just("@".to_string()),
        Just("/".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just("::1".to_string()),
        "[0-9]{1,6}",
        "[a-z.-]{1,8}",
        "\\PC{0,4}",
    ];
    prop::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_url_panics_and_refusals_quote_it(url in prop_oneof![url_like(), "\\PC{0,40}", "http://\\PC{0,30}"]) {
        match validate_url(&url) {
            Ok(u) => {
                prop_assert!(u.target().to_string().starts_with('/'), "{url:?} -> {}", u.target());
                prop_assert!(u.port() != 0);
                prop_assert!(!u.host().is_empty());
                prop_assert_eq!(u.to_string(), url.trim());
            }
            Err(e) => prop_assert!(e.to_string().contains(&url), "{url:?}: {e}"),
        }
    }

    #[test]
    fn a_well_formed_url_splits_into_its_pieces(
        host in prop_oneof!["[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,5})?", "(25[0-5]|[1-9]?[0-9])(\\.(25[0-5]|[1-9]?[0-9])){3}"],
        port in prop::option::of(1u16..),
        path in "(/[a-zA-Z0-9._~-]{0,8}){0,3}",
        query in prop::option::of("[a-z_]{1,8}=[0-9]{0,5}"),
    ) {
        let url = format!(
            "http://{host}{}{path}{}",
            port.map_or(String::new(), |p| format!(":{p}")),
            query.as_ref().map_or(String::new(), |q| format!("?{q}")),
        );
        let u = validate_url(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        prop_assert_eq!(u.host(), host.as_str());
        prop_assert_eq!(u.port(), port.unwrap_or(80));
        let target = format!("{}{}", if path.is_empty() { "/" } else { &path }, query.map_or(String::new(), |q| format!("?{q}")));
        prop_assert_eq!(u.target().to_string(), target);
    }
}
