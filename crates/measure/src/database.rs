//! The PostgreSQL the kit's database tests run against: `KIT_DATABASE_URL`.
//!
//! Tests that need one skip, with a line that says so, when it is not set:
//! `cargo test --release` on a laptop without PostgreSQL still passes, and the skip is
//! visible (`cargo test --release -- --nocapture`). CI starts a throwaway server
//! (.ci/postgres.sh), so there they always run. The pool exercise's grade
//! does not skip: a grade that passes without measuring would lie.

/// Where the URL comes from.
pub const ENV: &str = "KIT_DATABASE_URL";

/// The database URL, if one is set.
pub fn url() -> Option<String> {
    std::env::var(ENV).ok().filter(|u| !u.trim().is_empty())
}

/// The database URL, or `None` after printing why `test` is skipped.
pub fn url_or_skip(test: &str) -> Option<String> {
    let url = url();
    if url.is_none() {
        println!(
            "{test}: skipped: {ENV} is not set (see the README: Backends: PostgreSQL and the pool)"
        );
    }
    url
}

/// A URL where no database listens: a port the OS just gave us and took back.
pub fn url_nobody_listens_on() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS gives a free port");
    format!("postgres://nobody@127.0.0.1:{port}/postgres")
}
