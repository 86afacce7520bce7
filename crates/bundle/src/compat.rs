//! Whether a bundle fits this Shipgate: its `min_shipgate` and `contract`.

use semver::{Version, VersionReq};

/// The version of this Shipgate (the workspace's, shared by every crate).
pub const SHIPGATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The package of the policy contract, as `wit/policy.wit` names it.
pub const CONTRACT_PACKAGE: &str = "shipgate:policy";

/// The contract this Shipgate speaks, `shipgate:policy@0.2.0`.
pub fn contract() -> String {
    format!("{CONTRACT_PACKAGE}@{}", shipgate_model::CONTRACT_VERSION)
}

/// The version of a contract `shipgate:policy@X.Y.Z`, or why it is not one.
pub fn parse_contract(text: &str) -> Result<Version, String> {
    let version = text
        .strip_prefix(CONTRACT_PACKAGE)
        .and_then(|rest| rest.strip_prefix('@'))
        .ok_or_else(|| format!("expected `{CONTRACT_PACKAGE}@VERSION`, found `{text}`"))?;
    Version::parse(version).map_err(|e| format!("`{version}` is not a semantic version: {e}"))
}

/// Whether components built for `contract` run on this Shipgate: the same
/// package, and a version this one's is compatible with (Cargo's caret
/// rule: the same major, or for 0.x the same minor, and not newer).
pub fn contract_fits(contract: &str) -> bool {
    let (Ok(theirs), Ok(ours)) = (
        parse_contract(contract),
        Version::parse(shipgate_model::CONTRACT_VERSION),
    ) else {
        return false;
    };
    VersionReq::parse(&format!("^{theirs}")).is_ok_and(|req| req.matches(&ours))
}

/// Whether this Shipgate is at least `min`.
pub fn shipgate_fits(min: &str) -> bool {
    match (Version::parse(min), Version::parse(SHIPGATE_VERSION)) {
        (Ok(min), Ok(ours)) => ours >= min,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts() {
        assert!(contract_fits(&contract()));
        assert!(contract_fits("shipgate:policy@0.2.0"));
        assert!(!contract_fits("shipgate:policy@0.1.0"));
        assert!(!contract_fits("shipgate:policy@0.3.0"));
        assert!(!contract_fits("shipgate:policy@1.0.0"));
        assert!(!contract_fits("other:policy@0.2.0"));
        assert!(parse_contract("shipgate:policy").is_err());
    }

    #[test]
    fn versions() {
        assert!(shipgate_fits("0.0.1"));
        assert!(shipgate_fits(SHIPGATE_VERSION));
        assert!(!shipgate_fits("99.0.0"));
    }
}
