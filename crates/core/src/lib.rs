//! The ground floor of the Shipgate host, shared by the engine
//! (`shipgate-engine`), the collector (`shipgate-collect`) and the command
//! line (`shipgate`):
//!
//! - [`config`]: the `shipgate.toml` file, its whole schema (limits, output,
//!   policies, log, deployment, sources, watch) and errors that name the
//!   file, line, column and key;
//! - [`bounded`]: a size cap for every input that comes from outside;
//! - [`redact`]: the process-wide registry of secret values and the layer
//!   every output passes through;
//! - [`escape`]: control characters made visible in text for a terminal.
//!
//! It does no I/O of its own beyond reading a file under its cap, and
//! depends on nothing heavier than serde and toml.
//!
//! ```
//! use shipgate_core::config::{Config, Mode};
//! use std::path::Path;
//!
//! let config = Config::parse(
//!     "[[policies]]\nname = \"env\"\nsource = \"builtin:env\"\nmode = \"advisory\"\n",
//!     Path::new("shipgate.toml"),
//! )?;
//! assert_eq!(config.policies[0].mode, Mode::Advisory);
//!
//! shipgate_core::redact::register("hunter2-very-secret");
//! assert_eq!(shipgate_core::redact::scrub("token=hunter2-very-secret"), "token=***");
//! # Ok::<(), shipgate_core::config::ConfigError>(())
//! ```
#![deny(missing_docs)]

pub mod atomic;
pub mod bounded;
pub mod config;
pub mod escape;
pub mod redact;
