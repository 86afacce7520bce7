//! The rules a policy can report, declared once with [`rules!`](crate::rules!).

/// A rule a policy can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The id its findings carry (`canary.error-rate`).
    pub id: &'static str,
    /// What makes it fire, in one sentence.
    pub description: &'static str,
}

/// Every rule a policy can report, in the order a reader would look for
/// them: what [`rules!`](crate::rules!) declares as `RULES`, and what
/// [`Info::rules`](crate::Info::rules) takes.
///
/// The list is checked when it is built, which [`rules!`](crate::rules!)
/// does in a `const`, so at compile time: no id is declared twice, and no
/// id or description is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rules(&'static [Rule]);

impl Rules {
    /// No rules: a policy that does not say what it reports.
    pub const NONE: Rules = Rules(&[]);

    /// The list `rules`, checked.
    ///
    /// # Panics
    ///
    /// When an id is declared twice, or an id or a description is empty. In
    /// a `const` (as [`rules!`](crate::rules!) builds it) that is a compile
    /// error, pointing at the declaration.
    #[allow(clippy::panic, reason = "a panic in a const is a compile error")]
    pub const fn new(rules: &'static [Rule]) -> Rules {
        if let Err(problem) = check(rules) {
            panic!("{}", problem);
        }
        Rules(rules)
    }

    /// The rules, in order.
    pub fn iter(&self) -> std::slice::Iter<'static, Rule> {
        self.0.iter()
    }

    /// The rules' ids, in order.
    pub fn ids(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.0.iter().map(|r| r.id)
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&'static Rule> {
        self.0.iter().find(|r| r.id == id)
    }

    /// Whether `id` is one of the rules (the whole id, exactly).
    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rules as a slice.
    pub fn as_slice(&self) -> &'static [Rule] {
        self.0
    }
}

impl IntoIterator for Rules {
    type Item = &'static Rule;
    type IntoIter = std::slice::Iter<'static, Rule>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for &Rules {
    type Item = &'static Rule;
    type IntoIter = std::slice::Iter<'static, Rule>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// What [`Rules::new`] refuses, as a const fn can say it (no formatting).
const fn check(rules: &[Rule]) -> Result<(), &'static str> {
    let mut i = 0;
    while i < rules.len() {
        if rules[i].id.is_empty() {
            return Err("a rule id is empty");
        }
        if rules[i].description.is_empty() {
            return Err("a rule description is empty");
        }
        let mut j = 0;
        while j < i {
            if same(rules[i].id, rules[j].id) {
                return Err("a rule id is declared twice");
            }
            j += 1;
        }
        i += 1;
    }
    Ok(())
}

/// `a == b`, in a const fn.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Declares the rules a policy can report, each once: its id constant, its
/// id and what makes it fire.
///
/// Each entry `pub NAME = "policy.rule" => "what makes it fire"` becomes a
/// constant `pub const NAME: &str = "policy.rule"`, documented with its
/// description (doc comments written above an entry are added to it). The
/// macro also defines `pub const RULES: Rules`, every entry in order, which
/// `info()` passes to [`Info::rules`](crate::Info::rules): the list the host
/// shows and `shipgate test` reports coverage against cannot forget a rule
/// or name one twice (a repeated id is a compile error).
/// [`testing::check_rules`](crate::testing::check_rules) checks the rest in
/// a unit test, and [`testing::evaluate`](crate::testing::evaluate) refuses a
/// finding whose rule is not declared.
///
/// ```
/// use shipgate_sdk::prelude::*;
///
/// shipgate_sdk::rules! {
///     pub BLOCKED_DAY = "window.blocked-day" => "the deploy is requested on a blocked day (no-go)",
///     /// Also fires for an hour outside the window's end.
///     pub AFTER_HOURS = "window.after-hours"
///         => "the deploy is requested after the window closes (hold)",
/// }
///
/// struct Window;
///
/// impl Policy for Window {
///     type Config = NoConfig;
///
///     fn info() -> Info {
///         Info::new("window", "deploy windows").rules(RULES)
///     }
///
///     fn evaluate(_: Stage, _: &Snapshot, _: &NoConfig) -> Result<Decision, String> {
///         Ok(Decision::from_findings(vec![Finding::no_go(BLOCKED_DAY, "it is Friday")]))
///     }
/// }
///
/// assert_eq!(BLOCKED_DAY, "window.blocked-day");
/// assert_eq!(RULES.ids().collect::<Vec<_>>(), ["window.blocked-day", "window.after-hours"]);
/// assert_eq!(Window::info().rules, RULES);
/// shipgate_sdk::testing::check_rules::<Window>().unwrap();
/// ```
///
/// An id declared twice does not compile:
///
/// ```compile_fail,E0080
/// shipgate_sdk::rules! {
///     pub A = "demo.a" => "fires first",
///     pub B = "demo.a" => "fires second",
/// }
/// ```
#[macro_export]
macro_rules! rules {
    ($(
        $(#[$attr:meta])*
        $vis:vis $name:ident = $id:literal => $description:literal
    ),+ $(,)?) => {
        $(
            #[doc = concat!("Rule `", $id, "`: ", $description, ".")]
            $(#[$attr])*
            $vis const $name: &str = $id;
        )+

        /// Every rule of this policy, in the order of its declaration, as
        /// `info()` declares them (`Info::rules`).
        pub const RULES: $crate::Rules = $crate::Rules::new(&[
            $($crate::Rule { id: $name, description: $description }),+
        ]);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn rule(id: &'static str, description: &'static str) -> Rule {
        Rule { id, description }
    }

    #[test]
    fn a_list_of_distinct_rules_passes() {
        assert_eq!(check(&[]), Ok(()));
        assert_eq!(
            check(&[
                rule("demo.a", "a"),
                rule("demo.ab", "ab"),
                rule("demo.b", "b")
            ]),
            Ok(())
        );
    }

    #[test]
    fn a_repeated_or_empty_id_or_description_is_refused() {
        let twice = Err("a rule id is declared twice");
        assert_eq!(check(&[rule("demo.a", "a"), rule("demo.a", "b")]), twice);
        assert_eq!(
            check(&[
                rule("demo.a", "a"),
                rule("demo.b", "b"),
                rule("demo.a", "c")
            ]),
            twice
        );
        assert_eq!(check(&[rule("", "a")]), Err("a rule id is empty"));
        assert_eq!(
            check(&[rule("demo.a", "")]),
            Err("a rule description is empty")
        );
    }

    #[test]
    fn rules_find_whole_ids() {
        const RULES: Rules = Rules::new(&[rule("demo.a", "a"), rule("demo.b-c", "b-c")]);
        assert_eq!(RULES.len(), 2);
        assert!(RULES.contains("demo.b-c"));
        assert!(!RULES.contains("demo.b"));
        assert_eq!(RULES.get("demo.a").map(|r| r.description), Some("a"));
        assert_eq!(RULES.iter().count(), 2);
        assert!(Rules::NONE.is_empty());
    }
}
