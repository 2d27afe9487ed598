//! The exercise registry: every exercise of the kit, in one list.
//!
//! Adding an exercise is one folder under `exercises/`, its solution under
//! `solutions/`, and one entry in [`EXERCISES`] (CONTRIBUTING.md says how).
//! From this list:
//! - `kit dev check` runs each pristine exercise's grade and proves that it
//!   fails on exactly [`Exercise::fail_as_given`], names [`Exercise::hint`]
//!   and shows [`Exercise::evidence`], and that each solution passes;
//! - [`readme_table`] renders the README's exercise table, and a test below
//!   fails when README.md's table differs;
//! - [`layout_problems`] finds a folder under `exercises/` or `solutions/`
//!   that is not registered, or a registered one that lacks its files, and
//!   [`membership_problems`] one the workspace does not build as it should.

use std::path::{Path, PathBuf};

/// What an exercise's grade needs besides the exercise itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: the grade starts the server and measures it over loopback.
    Nothing,
    /// A real PostgreSQL at [`crate::database::ENV`] (`KIT_DATABASE_URL`).
    Database,
}

/// One exercise and what its pristine grade must show.
#[derive(Clone, Copy, Debug)]
pub struct Exercise {
    /// Its short name, as `kit dev check --exercise <name>` takes it.
    pub name: &'static str,
    /// The learner's folder, from the repository root: `exercises/<name>`.
    pub folder: &'static str,
    /// The solution's folder, from the repository root: `solutions/<name>`.
    pub solution: &'static str,
    /// The server it starts from, a folder under `servers/`.
    pub server: &'static str,
    /// The README table's "starts as" cell: the server, and how the exercise differs from it, if it does.
    pub starts_as: &'static str,
    /// The README table's "Python twin" cell: the same mistake in Python.
    pub python_twin: &'static str,
    /// What the grade needs to measure at all.
    pub needs: Needs,
    /// One sentence for `kit learn`'s screen: what the server does wrong, as
    /// a learner meets it (at most [`STORY_WIDTH`] characters: one line).
    pub story: &'static str,
    /// The grade's checks in order: check n is the test `check_<n>_<checks[n - 1]>`
    /// (`kit dev check` fails when a grade's test names differ).
    pub checks: &'static [&'static str],
    /// The checks that must fail as given; every other check must pass.
    pub fail_as_given: &'static [u32],
    /// The hint the first failure names, as the grade writes it.
    pub hint: &'static str,
    /// Text the pristine grade's failures must show: the measured count that is the lesson.
    pub evidence: &'static str,
    /// The README table's "the fix" cell, one line.
    pub fix: &'static str,
}

/// The checks of `kit_measure::grade` (the trap's and the wrapper's grade).
const GRADE_CHECKS: &[&str] = &[
    "parallel_requests_and_their_waits_overlap",
    "multi_io_and_db_scale_the_same_way",
    "cpu_work_does_not_stall_the_runtime",
    "it_cannot_be_gamed_with_threads",
    "responses_keep_the_contract",
];

/// Every exercise, in course order (the README's table and `kit dev check`
/// list them so): the pool, which needs a database, last.
pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "trap",
        folder: "exercises/trap",
        solution: "solutions/trap",
        server: "async-trap",
        starts_as: "`async-trap`",
        python_twin: "Flask `async def` views on WSGI",
        needs: Needs::Nothing,
        story: "The handlers say async, yet each one blocks its worker thread: 4 slots, whatever the code says.",
        checks: GRADE_CHECKS,
        fail_as_given: &[1, 2, 3, 4],
        hint: "HINTS.md, hint 1",
        evidence: "peak_in_flight 4",
        fix: "make the waits yield (`tokio::time::sleep(..).await`, `join!`), CPU to `spawn_blocking`",
    },
    Exercise {
        name: "wrapper",
        folder: "exercises/wrapper",
        solution: "solutions/wrapper",
        server: "blocking-wrapper",
        starts_as: "`blocking-wrapper`",
        python_twin: "Flask behind `WsgiToAsgi`",
        needs: Needs::Nothing,
        story: "An async server in front, the blocking app behind it on 4 threads: the back still takes turns.",
        checks: GRADE_CHECKS,
        fail_as_given: &[1, 2, 3, 4],
        hint: "HINTS.md, hint 1",
        evidence: "peak_in_flight 4",
        fix: "move the waits out of the blocking app into async handlers; keep the bridge for CPU work",
    },
    Exercise {
        name: "lock",
        folder: "exercises/lock",
        solution: "solutions/lock",
        server: "async-native",
        starts_as: "async-native with a price cache behind a `tokio::sync::Mutex`, held across the call to the upstream",
        python_twin: "an `asyncio.Lock` held across `await session.get(..)`",
        needs: Needs::Nothing,
        story: "A price cache behind a lock held across the call to the pricing service: requests take turns.",
        checks: &[
            "misses_for_different_products_take_one_round",
            "the_cache_still_saves_calls",
            "health_stays_fast_during_misses",
            "the_answers_keep_the_contract",
        ],
        fail_as_given: &[1],
        hint: "HINTS.md, hint 1",
        evidence: "calls at once 1 (exact",
        fix: "hold the lock only to read and to insert; fetch with no lock held",
    },
    Exercise {
        name: "fanout",
        folder: "exercises/fanout",
        solution: "solutions/fanout",
        server: "async-native",
        starts_as: "async-native calling a pricing service, one call after another",
        python_twin: "`for item in basket: await session.get(..)`; the fix: `asyncio.gather` behind one `asyncio.Semaphore`",
        needs: Needs::Nothing,
        story: "A basket's prices fetched one after another, from a service that allows 5 calls at once.",
        checks: &[
            "one_basket_takes_the_rounds_of_the_pricing_limit",
            "baskets_at_once_share_one_limit",
            "the_answer_keeps_the_contract",
        ],
        fail_as_given: &[1, 2],
        hint: "HINTS.md, hint 1",
        evidence: "at most 1 call at once",
        fix: "start a basket's calls together (`join_all`) behind one `Semaphore` of the pricing service's limit, shared by every request",
    },
    Exercise {
        name: "timeout",
        folder: "exercises/timeout",
        solution: "solutions/timeout",
        server: "async-native",
        starts_as: "async-native calling a pricing service, 20 calls at once, no deadline",
        python_twin: "aiohttp with no `ClientTimeout`",
        needs: Needs::Nothing,
        story: "20 calls at once to a pricing service, no deadline on any: when it hangs, the server hangs.",
        checks: &[
            "a_hanging_partner_gets_quick_504s",
            "abandoned_calls_hang_up",
            "the_server_recovers_with_the_partner",
            "health_stays_fast_while_the_partner_hangs",
        ],
        fail_as_given: &[1, 2],
        hint: "HINTS.md, hint 1",
        evidence: "in_flight 20 (held",
        fix: "one deadline over the wait for a permit and the call (`tokio::time::timeout`), a JSON 504 past it",
    },
    Exercise {
        name: "backpressure",
        folder: "exercises/backpressure",
        solution: "solutions/backpressure",
        server: "async-native",
        starts_as: "async-native calling a gateway of 4 connections, the wait for one unbounded, at 2.5 x capacity",
        python_twin: "an `asyncio.Semaphore` with unbounded waiters",
        needs: Needs::Nothing,
        story: "A gateway of 4 connections and an unbounded line for one: at 2.5 x capacity, everyone waits.",
        checks: &[
            "the_goodput_holds_at_2_5_x_capacity",
            "the_rest_get_a_fast_503_with_retry_after",
            "in_flight_stays_within_the_gateway_and_the_line",
            "nothing_is_shed_at_half_capacity",
        ],
        fail_as_given: &[1, 2, 3],
        hint: "HINTS.md, hint 1",
        evidence: "hung up by a client who had left",
        fix: "bound the line for a connection and shed the rest with a fast 503 and `Retry-After` (see docs/open-loop.md)",
    },
    Exercise {
        name: "pool",
        folder: "exercises/pool",
        solution: "solutions/pool",
        server: "async-native",
        starts_as: "async-native on PostgreSQL, a pool of 2, no bound on the wait",
        python_twin: "Quart with an asyncpg pool of 2",
        needs: Needs::Database,
        story: "A pool of 2 connections to PostgreSQL, no bound on the wait for one: the queries take turns.",
        checks: &[
            "a_burst_takes_the_rounds_of_the_database_capacity",
            "the_pool_stays_within_the_database_capacity",
            "a_burst_past_the_pool_gets_quick_503s",
        ],
        fail_as_given: &[1, 3],
        hint: "HINTS.md, hint 1",
        evidence: "peak_in_use 2 (exact",
        fix: "size the pool to the database's capacity, bound the wait for a connection (see \"Backends: PostgreSQL and the pool\")",
    },
];

/// The registered exercise called `name`.
pub fn find(name: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.name == name)
}

impl Exercise {
    /// The checks that must pass as given: all but [`Exercise::fail_as_given`].
    pub fn pass_as_given(&self) -> Vec<u32> {
        (1..=self.check_count()).filter(|n| !self.fail_as_given.contains(n)).collect()
    }

    /// How many checks the grade has.
    pub fn check_count(&self) -> u32 {
        self.checks.len() as u32
    }

    /// Check `n` (from 1) as a learner reads it: "cpu work does not stall the
    /// runtime", "the goodput holds at 2.5 x capacity".
    pub fn check_title(&self, n: u32) -> Option<String> {
        let name = self.checks.get((n as usize).checked_sub(1)?)?;
        Some(title_of(name))
    }

    /// The file a learner edits, from the exercise's folder.
    pub fn file(&self) -> &'static str {
        EXERCISE_SOURCE
    }

    /// The README table's first cell: the folder, and what it needs.
    fn folder_cell(&self) -> String {
        match self.needs {
            Needs::Nothing => format!("`{}`", self.folder),
            Needs::Database => format!("`{}` (needs `{}`)", self.folder, crate::database::ENV),
        }
    }
}

/// The longest story that fits one line of `kit learn`'s 100 columns.
pub const STORY_WIDTH: usize = 98;

/// The one source file of every exercise and solution, from its folder.
pub const EXERCISE_SOURCE: &str = "src/main.rs";

/// A test's name as words: underscores become spaces, and one between two
/// digits a decimal point ("2_5_x" reads "2.5 x").
pub fn title_of(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        out.push(match c {
            '_' if between_digits => '.',
            '_' => ' ',
            c => c,
        });
    }
    out
}

/// The files every exercise folder must hold, from the folder.
pub const EXERCISE_FILES: [&str; 5] =
    ["Cargo.toml", "README.md", "HINTS.md", "tests/grade.rs", EXERCISE_SOURCE];

/// The files every solution folder must hold, from the folder.
pub const SOLUTION_FILES: [&str; 4] =
    ["Cargo.toml", "README.md", "tests/grade.rs", EXERCISE_SOURCE];

/// The README's exercise table, rendered from [`EXERCISES`].
pub fn readme_table() -> String {
    let mut out =
        String::from("| exercise | starts as | Python twin | the fix |\n|---|---|---|---|\n");
    for e in EXERCISES {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            e.folder_cell(),
            e.starts_as,
            e.python_twin,
            e.fix
        ));
    }
    out
}

/// The table in a README's text: the lines from its header row to the
/// first line that is not a table row, or `None` if it has none.
pub fn table_in(readme: &str) -> Option<String> {
    let header = "| exercise | starts as |";
    let start = readme.lines().position(|l| l.starts_with(header))?;
    let rows: Vec<&str> = readme.lines().skip(start).take_while(|l| l.starts_with('|')).collect();
    Some(rows.iter().map(|l| format!("{l}\n")).collect())
}

/// What is wrong with the registry or the folders under `root` (the
/// repository root): one sentence each, empty when all is well. Reads
/// folder listings only: cheap enough for every `cargo test`.
pub fn layout_problems(root: &Path, registry: &[Exercise]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, e) in registry.iter().enumerate() {
        if registry[..i]
            .iter()
            .any(|o| o.name == e.name || o.folder == e.folder || o.solution == e.solution)
        {
            problems.push(format!("the registry lists `{}` (or its folders) twice", e.name));
        }
        if e.folder != format!("exercises/{}", e.name)
            || e.solution != format!("solutions/{}", e.name)
        {
            problems.push(format!(
                "the registry's `{}`: its folders must be exercises/{0} and solutions/{0}, not {} and {}",
                e.name, e.folder, e.solution
            ));
        }
        if e.story.is_empty() || e.story.chars().count() > STORY_WIDTH {
            problems.push(format!(
                "the registry's `{}`: its story must be one line of 1-{STORY_WIDTH} characters",
                e.name
            ));
        }
        if e.checks.is_empty()
            || e.fail_as_given.is_empty()
            || e.fail_as_given.iter().any(|&n| n == 0 || n > e.check_count())
        {
            problems.push(format!(
                "the registry's `{}`: fail_as_given {:?} must name at least one of its checks 1-{}",
                e.name,
                e.fail_as_given,
                e.check_count()
            ));
        }
        if !root.join("servers").join(e.server).is_dir() {
            problems.push(format!(
                "the registry's `{}` starts from servers/{}, which is not there",
                e.name, e.server
            ));
        }
        if !e.starts_as.contains(e.server) {
            problems.push(format!(
                "the registry's `{}`: its \"starts as\" cell does not name its server {}",
                e.name, e.server
            ));
        }
        for (folder, files) in [(e.folder, &EXERCISE_FILES[..]), (e.solution, &SOLUTION_FILES[..])]
        {
            if !root.join(folder).is_dir() {
                problems.push(format!("the registry lists {folder}, which is not there"));
                continue;
            }
            for file in files {
                if !root.join(folder).join(file).is_file() {
                    problems.push(format!("{folder} has no {file}"));
                }
            }
        }
    }
    for (parent, registered) in [
        ("exercises", registry.iter().map(|e| e.folder).collect::<Vec<_>>()),
        ("solutions", registry.iter().map(|e| e.solution).collect()),
    ] {
        for folder in folders_under(&root.join(parent)) {
            let path = format!("{parent}/{folder}");
            if !registered.contains(&path.as_str()) {
                problems.push(format!(
                    "{path} is not in the exercise registry: add an entry to EXERCISES in crates/measure/src/exercises.rs (see CONTRIBUTING.md)"
                ));
            }
        }
    }
    problems
}

/// The names of the folders in `dir`, sorted (none if it cannot be read).
fn folders_under(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// What is wrong with the workspace's members, given the folders of its
/// `members` and `default-members` (as `cargo metadata` lists them):
/// every exercise and solution is a member, so that `cargo test --release`
/// in its folder builds in the shared target; every solution is a default
/// member, so that the root `cargo test --release` grades it; no exercise
/// is, since a pristine exercise fails its grade.
pub fn membership_problems(
    root: &Path,
    registry: &[Exercise],
    members: &[PathBuf],
    default_members: &[PathBuf],
) -> Vec<String> {
    let mut problems = Vec::new();
    for e in registry {
        for (folder, default) in [(e.folder, false), (e.solution, true)] {
            let dir = root.join(folder);
            if !members.contains(&dir) {
                problems.push(format!(
                    "{folder} is not a member of the workspace (Cargo.toml's `members`)"
                ));
            }
            match (default, default_members.contains(&dir)) {
                (true, false) => problems.push(format!(
                    "{folder} is not in Cargo.toml's `default-members`: the root `cargo test --release` would not grade it"
                )),
                (false, true) => problems.push(format!(
                    "{folder} is in Cargo.toml's `default-members`: the root `cargo test --release` would fail on the pristine exercise"
                )),
                _ => {}
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository root: this crate is crates/measure.
    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .expect("the repository root")
    }

    #[test]
    fn the_readme_table_is_the_registry() {
        let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
        let expected = readme_table();
        let found = table_in(&readme)
            .expect("README.md has an exercise table (a line starting `| exercise | starts as |`)");
        assert!(
            found == expected,
            "README.md's exercise table differs from the registry (crates/measure/src/exercises.rs). Expected:\n\n{expected}\nfound:\n\n{found}"
        );
    }

    #[test]
    fn every_exercise_folder_is_registered_and_complete() {
        let problems = layout_problems(&root(), EXERCISES);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// `cargo metadata --no-deps`: reads the manifests, builds nothing.
    #[test]
    fn the_workspace_builds_every_exercise_and_grades_every_solution() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = std::process::Command::new(cargo)
            .args([
                "metadata",
                "--no-deps",
                "--offline",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(root().join("Cargo.toml"))
            .output()
            .expect("cargo metadata runs");
        assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
        let meta: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
        let dir_of = |id: &serde_json::Value| -> PathBuf {
            let package = meta["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| &p["id"] == id)
                .expect("a member is a package");
            Path::new(package["manifest_path"].as_str().unwrap()).parent().unwrap().to_path_buf()
        };
        let list = |key: &str| -> Vec<PathBuf> {
            meta[key]
                .as_array()
                .unwrap_or_else(|| panic!("cargo metadata has no {key}"))
                .iter()
                .map(dir_of)
                .collect()
        };
        let (members, default_members) =
            (list("workspace_members"), list("workspace_default_members"));
        let problems = membership_problems(&root(), EXERCISES, &members, &default_members);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn find_names_each_exercise() {
        assert_eq!(find("pool").map(|e| e.folder), Some("exercises/pool"));
        assert!(find("exercises/pool").is_none());
        assert_eq!(find("trap").unwrap().pass_as_given(), vec![5]);
        assert_eq!(find("pool").unwrap().pass_as_given(), vec![2]);
        assert_eq!(find("lock").unwrap().pass_as_given(), vec![2, 3, 4]);
    }

    #[test]
    fn checks_read_as_words() {
        let trap = find("trap").unwrap();
        assert_eq!(trap.check_count(), 5);
        assert_eq!(trap.check_title(3).as_deref(), Some("cpu work does not stall the runtime"));
        assert_eq!(trap.check_title(0), None);
        assert_eq!(trap.check_title(6), None);
        assert_eq!(
            find("backpressure").unwrap().check_title(1).as_deref(),
            Some("the goodput holds at 2.5 x capacity")
        );
        assert_eq!(title_of("a_1_b_22_3"), "a 1 b 22.3");
    }

    #[test]
    fn the_table_renders_a_row_per_exercise_and_what_it_needs() {
        let table = readme_table();
        assert_eq!(table.lines().count(), 2 + EXERCISES.len());
        assert!(
            table.contains(
                "| `exercises/pool` (needs `KIT_DATABASE_URL`) | async-native on PostgreSQL"
            ),
            "{table}"
        );
        assert!(table.contains("| `exercises/trap` | `async-trap` |"), "{table}");
        let readme = format!("intro\n\n{table}\nThe grade\n| other | table |\n");
        assert_eq!(table_in(&readme).as_deref(), Some(table.as_str()));
        assert_eq!(table_in("| other | table |\n"), None);
    }

    /// A throwaway repository root with the given folders and files.
    struct Fixture(PathBuf);

    impl Fixture {
        fn new(test: &str, files: &[&str]) -> Fixture {
            let dir =
                std::env::temp_dir().join(format!("kit-registry-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            for file in files {
                let path = dir.join(file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, "").unwrap();
            }
            Fixture(dir)
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The trap's entry alone, wherever it stands in the registry.
    fn one() -> &'static [Exercise] {
        std::slice::from_ref(find("trap").expect("the trap is registered"))
    }

    /// The files of the trap exercise, all there.
    fn complete() -> Vec<String> {
        let mut files: Vec<String> =
            EXERCISE_FILES.iter().map(|f| format!("exercises/trap/{f}")).collect();
        files.extend(SOLUTION_FILES.iter().map(|f| format!("solutions/trap/{f}")));
        files.push("servers/async-trap/main.rs".into());
        files
    }

    fn problems_with(test: &str, files: &[String]) -> Vec<String> {
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        let fixture = Fixture::new(test, &files);
        layout_problems(&fixture.0, one())
    }

    #[test]
    fn a_complete_layout_has_no_problems() {
        assert_eq!(problems_with("complete", &complete()), Vec::<String>::new());
    }

    #[test]
    fn an_unregistered_folder_is_a_problem() {
        for extra in ["exercises/queue/Cargo.toml", "solutions/queue/Cargo.toml"] {
            let mut files = complete();
            files.push(extra.into());
            let problems = problems_with("unregistered", &files);
            let folder = extra.trim_end_matches("/Cargo.toml");
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].starts_with(&format!("{folder} is not in the exercise registry")),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn a_missing_file_or_solution_is_a_problem() {
        for (folder, file) in [
            ("exercises/trap", "HINTS.md"),
            ("exercises/trap", "tests/grade.rs"),
            ("solutions/trap", "README.md"),
            ("solutions/trap", "Cargo.toml"),
        ] {
            let missing = format!("{folder}/{file}");
            let files: Vec<String> = complete().into_iter().filter(|f| *f != missing).collect();
            assert_eq!(
                problems_with("missing", &files),
                vec![format!("{folder} has no {file}")],
                "{missing}"
            );
        }
        let files: Vec<String> =
            complete().into_iter().filter(|f| !f.starts_with("solutions/")).collect();
        assert_eq!(
            problems_with("no-solution", &files),
            vec!["the registry lists solutions/trap, which is not there".to_string()]
        );
    }

    #[test]
    fn a_bad_entry_is_a_problem() {
        let fixture =
            Fixture::new("bad-entry", &complete().iter().map(String::as_str).collect::<Vec<_>>());
        let twice = [EXERCISES[0], EXERCISES[0]];
        assert!(layout_problems(&fixture.0, &twice).iter().any(|p| p.contains("twice")));
        let none_fail = [Exercise { fail_as_given: &[], ..EXERCISES[0] }];
        assert!(layout_problems(&fixture.0, &none_fail)
            .iter()
            .any(|p| p.contains("fail_as_given")));
        let out_of_range = [Exercise { fail_as_given: &[6], ..EXERCISES[0] }];
        assert!(layout_problems(&fixture.0, &out_of_range)
            .iter()
            .any(|p| p.contains("fail_as_given")));
        let no_server =
            [Exercise { server: "async-nowhere", starts_as: "`async-nowhere`", ..EXERCISES[0] }];
        assert!(layout_problems(&fixture.0, &no_server)
            .iter()
            .any(|p| p.contains("servers/async-nowhere")));
    }

    #[test]
    fn membership_wants_every_folder_built_and_only_solutions_graded_by_default() {
        let root = Path::new("/repo");
        let at = |f: &str| root.join(f);
        let members = vec![at("exercises/trap"), at("solutions/trap")];
        assert!(membership_problems(root, one(), &members, &[at("solutions/trap")]).is_empty());
        let problems =
            membership_problems(root, one(), &[at("solutions/trap")], &[at("solutions/trap")]);
        assert_eq!(
            problems,
            vec!["exercises/trap is not a member of the workspace (Cargo.toml's `members`)"
                .to_string()]
        );
        let problems = membership_problems(root, one(), &members, &[]);
        assert!(
            problems.len() == 1
                && problems[0]
                    .starts_with("solutions/trap is not in Cargo.toml's `default-members`"),
            "{problems:?}"
        );
        let problems = membership_problems(root, one(), &members, &members);
        assert!(
            problems.len() == 1
                && problems[0].starts_with("exercises/trap is in Cargo.toml's `default-members`"),
            "{problems:?}"
        );
    }
}
