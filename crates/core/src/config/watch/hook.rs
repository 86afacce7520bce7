//! A hook command as the configuration writes it: a list run as it is, or a
//! string run by `sh -c` in which a placeholder is refused.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The placeholders of the list form, with the variable that holds each
/// value (what a string hook reads instead).
pub const PLACEHOLDERS: [(&str, &str); 5] = [
    ("{percent}", "SHIPGATE_PERCENT"),
    ("{phase}", "SHIPGATE_PHASE"),
    ("{service}", "SHIPGATE_SERVICE"),
    ("{environment}", "SHIPGATE_ENVIRONMENT"),
    ("{version}", "SHIPGATE_VERSION"),
];

/// Why a string hook is refused: it uses `placeholder`, which would be
/// pasted into shell text.
fn placeholder_in_shell(placeholder: &str, variable: &str) -> String {
    format!(
        "`{placeholder}` in a string hook would be pasted into shell text (`sh -c`), where a \
         value such as a branch name runs as a command: write \"${variable}\" (in double \
         quotes) instead, or use the list form [\"program\", \"{placeholder}\"], which passes \
         it as one argument"
    )
}

/// A configured hook command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookCommand {
    /// Run by `sh -c`.
    Shell(String),
    /// Run directly: the program, then its arguments.
    Argv(Vec<String>),
}

impl fmt::Display for HookCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookCommand::Shell(s) => f.write_str(s),
            HookCommand::Argv(args) => f.write_str(&args.join(" ")),
        }
    }
}

impl<'de> Deserialize<'de> for HookCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;
        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = HookCommand;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command: a string for `sh -c`, or a list of program and arguments")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HookCommand, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("the hook command is empty"));
                }
                if let Some((placeholder, variable)) =
                    PLACEHOLDERS.iter().find(|(p, _)| v.contains(p))
                {
                    return Err(E::custom(placeholder_in_shell(placeholder, variable)));
                }
                Ok(HookCommand::Shell(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HookCommand, A::Error> {
                let mut args = Vec::new();
                while let Some(arg) = seq.next_element::<String>()? {
                    args.push(arg);
                }
                if args.first().is_none_or(|p| p.trim().is_empty()) {
                    return Err(de::Error::custom("the hook's program is missing"));
                }
                Ok(HookCommand::Argv(args))
            }
        }
        deserializer.deserialize_any(CommandVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_in_a_string_hook_is_refused_at_load_with_the_fix() {
        #[derive(Debug, Deserialize)]
        struct T {
            #[allow(dead_code)]
            hook: HookCommand,
        }
        for (placeholder, variable) in PLACEHOLDERS {
            let text = format!("hook = \"./deploy.sh --to {placeholder}\"");
            let error = toml::from_str::<T>(&text).unwrap_err().to_string();
            assert!(
                error.contains(&format!(
                    "`{placeholder}` in a string hook would be pasted into shell text"
                )) && error.contains(&format!("write \"${variable}\" (in double quotes)")),
                "{error}"
            );
        }
        // The list form keeps its placeholders.
        let t: T = toml::from_str("hook = [\"./deploy.sh\", \"{version}\"]").unwrap();
        assert_eq!(
            t.hook,
            HookCommand::Argv(vec!["./deploy.sh".into(), "{version}".into()])
        );
    }

    /// `setsid` takes a child out of the hook's process group; it is still
    /// killed at the timeout, found by the run's marker.
    #[cfg(target_os = "linux")]
    #[test]
    fn commands_deserialize_from_a_string_or_a_list() {
        #[derive(Deserialize)]
        struct T {
            hook: HookCommand,
        }
        let t: T = toml::from_str("hook = \"./set-weight.sh \\\"$SHIPGATE_PERCENT\\\"\"").unwrap();
        assert_eq!(
            t.hook,
            HookCommand::Shell("./set-weight.sh \"$SHIPGATE_PERCENT\"".into())
        );
        let t: T = toml::from_str("hook = [\"kubectl\", \"argo\", \"rollouts\"]").unwrap();
        assert_eq!(t.hook.to_string(), "kubectl argo rollouts");
        assert!(toml::from_str::<T>("hook = \"  \"").is_err());
        assert!(toml::from_str::<T>("hook = []").is_err());
        assert!(toml::from_str::<T>("hook = 3").is_err());
    }
}
