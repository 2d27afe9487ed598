//! The `kit` command line as a whole: the top-level parser ([`Cli`]), the
//! race's flags at the top level, and one rule for every value of every
//! subcommand (a negative number is a value). The subcommands themselves,
//! and the `run` that dispatches to them, are in [`crate::commands`].

use clap::{CommandFactory, FromArgMatches, Parser};

use crate::commands::{race, Command};
use crate::error::Result;

#[derive(Parser, Debug)]
#[command(
    name = "kit",
    version,
    about = "Race, measure and explain four web servers in slot language",
    long_about = "Race, measure and explain four web servers in slot language.\n\n\
                  With no subcommand, `kit` runs the race: 100 concurrent /parallel at all four servers at once.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The race's flags, so that `kit --n 8` works like `kit race --n 8`.
    #[command(flatten)]
    pub race: race::Args,
}

impl Cli {
    /// Runs the subcommand, or the race when there is none (`kit`, `kit --n 8`).
    pub fn run(self) -> Result<()> {
        self.command.unwrap_or(Command::Race(self.race)).run()
    }
}

/// The command line, parsed: bad arguments print clap's message and exit 2.
pub fn parse() -> Cli {
    let matches = command().get_matches();
    // The matches came from this very command: they always convert, and
    // when they do not, clap's own error says why (exit 2).
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// `Cli`'s command, with one change to every value of every subcommand: a
/// negative number is taken as the value. `--rate -5` then gets the value's
/// own message ("'-5' is not a rate above 0"), the same as `--rate=-5`,
/// rather than clap's "unexpected argument '-5'" and a tip (`-- -5`) that
/// does not work for an option.
pub fn command() -> clap::Command {
    negative_numbers_are_values(Cli::command())
}

fn negative_numbers_are_values(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|arg| {
        if arg.get_action().takes_values() {
            arg.allow_negative_numbers(true)
        } else {
            arg
        }
    })
    .mut_subcommands(negative_numbers_are_values)
}

#[cfg(test)]
mod tests {
    use super::command;

    /// The error clap prints for `kit ARGS`, and its exit code.
    fn refused(args: &[&str]) -> (String, i32) {
        let e = command()
            .try_get_matches_from(std::iter::once("kit").chain(args.iter().copied()))
            .unwrap_err();
        (e.render().to_string(), e.exit_code())
    }

    #[test]
    fn a_negative_number_gets_the_values_own_message_in_both_forms() {
        for rate in [&["--rate", "-5"][..], &["--rate=-5"]] {
            let mut args = vec!["attack", "http://127.0.0.1:1/", "-d", "1s"];
            args.extend_from_slice(rate);
            let (text, code) = refused(&args);
            assert_eq!(code, 2, "{text}");
            assert!(text.contains("'-5' is not a rate above 0"), "{text}");
            assert!(!text.contains("-- -5"), "a tip that does not work: {text}");
        }
        let (text, code) = refused(&["stress", "--io-ms", "-5"]);
        assert_eq!(code, 2, "{text}");
        assert!(text.contains("invalid value '-5' for '--io-ms <IO_MS>'"), "{text}");
    }

    /// clap's own rule, which only a debug build asserts: a value-less flag
    /// may not allow negative numbers.
    #[test]
    fn only_arguments_with_values_take_negative_numbers() {
        fn walk(cmd: &clap::Command, seen: &mut u32) {
            for arg in cmd.get_arguments().filter(|a| a.is_allow_negative_numbers_set()) {
                assert!(
                    arg.get_action().takes_values(),
                    "{} {}: a flag that allows negative numbers",
                    cmd.get_name(),
                    arg.get_id()
                );
                *seen += 1;
            }
            cmd.get_subcommands().for_each(|sub| walk(sub, seen));
        }
        let mut cmd = command();
        cmd.build();
        let mut seen = 0;
        walk(&cmd, &mut seen);
        assert!(seen > 20, "only {seen} arguments take negative numbers");
    }

    #[test]
    fn a_malformed_url_is_a_bad_argument() {
        for args in [
            &["bench", "htp://x"][..],
            &["attack", "htp://x", "--rate", "1", "-d", "1s"],
            &["health", "--urls", "htp://x"],
            &["capacity", "htp://x"],
        ] {
            let (text, code) = refused(args);
            assert_eq!(code, 2, "{args:?}: {text}");
            assert!(
                text.contains("invalid value 'htp://x'")
                    && text.contains("unsupported scheme 'htp:'"),
                "{args:?}: {text}"
            );
        }
    }
}
