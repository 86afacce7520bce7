//! The `shipgate` command line, on top of the engine (`shipgate-engine`)
//! and the collector (`shipgate-collect`): one module per subcommand
//! ([`commands`]), the canary rollout driver ([`watch`]), the authoring
//! tools ([`cases`] for `shipgate test`, [`policy_crate`] for `shipgate
//! build`, [`scaffold`] for `shipgate new`), and text and Markdown
//! rendering ([`render`]).
//!
//! This library is the binary's own inside, public for the binary, its
//! tests, benchmarks and fuzz targets. To embed Shipgate in another tool,
//! depend on `shipgate-engine` (and `shipgate-collect` to gather
//! snapshots) instead.
//!
//! ```
//! use clap::Parser as _;
//! use shipgate::commands::{Cli, Command};
//!
//! let cli = Cli::try_parse_from(["shipgate", "eval", "--stage", "canary", "--snapshot", "s.json"])
//!     .expect("a valid command line");
//! assert!(matches!(cli.command, Command::Eval(_)));
//! assert!(Cli::try_parse_from(["shipgate", "eval", "--stage", "launch"]).is_err());
//! ```
#![deny(missing_docs)]

pub mod cases;
pub mod commands;
#[doc(hidden)]
pub mod fuzzing;
pub mod policy_crate;
pub mod render;
pub mod scaffold;
pub mod watch;
