#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the repository's real fixtures and the
# captured answers in fuzz/seeds/, with the leading choice byte some targets
# read (see crates/cli/src/fuzzing.rs). `./seed.sh TARGET...` seeds only
# those targets' corpora. Run from fuzz/, then minimise:
#   for t in $(cargo fuzz list); do cargo fuzz cmin --dev -s none "$t"; done
# (snapshot_canary shares corpus/snapshot and needs no cmin of its own).
set -euo pipefail
cd "$(dirname "$0")"
root=..
corpus=corpus

only=" $* "
add() { # add TARGET NAME [PREFIX_BYTE] < data
    local target=$1 name=$2 prefix=${3:-}
    if [ "$only" != "  " ] && [[ $only != *" $target "* ]]; then
        cat >/dev/null
        return
    fi
    mkdir -p "$corpus/$target"
    {
        if [ -n "$prefix" ]; then printf "\\x$(printf %02x "$prefix")"; fi
        cat
    } > "$corpus/$target/seed-$name"
}

# Snapshots: the examples, the scenario corpus, and the snapshots inside the
# decision-log test data.
for f in "$root"/examples/snapshots/*.json "$root"/tests/scenarios/*.json; do
    add snapshot "$(basename "$f")" < "$f"
done

# Configurations: the profiles and their rules twins, the examples, the
# built-in default.
for f in "$root"/examples/profiles/*.toml "$root"/examples/shipgate.toml \
    "$root"/examples/watch/shipgate.toml "$root"/crates/engine/src/default.toml; do
    add config "$(basename "$(dirname "$f")")-$(basename "$f")" < "$f"
done

# Decision logs: real records written by `shipgate eval --log`.
bin=${SHIPGATE_BIN:-$root/target/debug/shipgate}
log=$(mktemp)
for f in "$root"/examples/snapshots/*.json; do
    "$bin" eval --snapshot "$f" --log "$log" >/dev/null 2>&1 || true
done
add decision_log eval-log.jsonl < "$log"
head -n 1 "$log" | add decision_log one-record.jsonl
rm -f "$log"

# CI reports.
for f in "$root"/tests/fixtures/ci/junit/*.xml "$root"/tests/fixtures/ci/junit-bad/*.xml; do
    add junit "$(basename "$f")" < "$f"
done
for f in "$root"/tests/fixtures/ci/coverage/*.xml; do
    add cobertura "$(basename "$f")" < "$f"
done
add lcov lcov.info < "$root"/tests/fixtures/ci/coverage/lcov.info

# Lockfiles (choice byte: 0 Cargo.lock, 1 package-lock.json, 2 go.sum,
# 3 poetry.lock, 4 requirements.txt; 0xFF separates before and after).
add lockfile cargo-lock 0 < "$root"/Cargo.lock
for f in seeds/lockfile/*; do
    name=$(basename "$f")
    case "$name" in
        Cargo.lock*) n=0 ;; package-lock*) n=1 ;; go.sum*) n=2 ;;
        poetry*) n=3 ;; requirements*) n=4 ;; *) continue ;;
    esac
    add lockfile "$name" "$n" < "$f"
done

# Prometheus answers captured from a real server (choice byte: the status,
# 0 200, 1 400, 2 422, 3 503, 4 500, 5 404).
for f in seeds/prometheus/*.json; do
    name=$(basename "$f" .json)
    case "${name##*-}" in
        400) n=1 ;; 422) n=2 ;; 503) n=3 ;; 500) n=4 ;; 404) n=5 ;; *) n=0 ;;
    esac
    add prometheus "$name" "$n" < "$f"
done

# GitHub answers (choice byte: 0 check-runs, 1 status, 2 pull, 3 compare,
# 4 reviews, 5 event, 6 link).
for f in "$root"/tests/fixtures/github/*.json; do
    name=$(basename "$f" .json)
    case "$name" in
        check-runs*) n=0 ;; combined-status*) n=1 ;; pull*) n=2 ;;
        compare*) n=3 ;; reviews*) n=4 ;; event*) n=5 ;; *) n=1 ;;
    esac
    add github "$name" "$n" < "$f"
done
printf '%s' '<https://api.github.com/repositories/1/commits/abc/check-runs?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/commits/abc/check-runs?per_page=100&page=5>; rel="last"' |
    add github link-next 6
printf '%s' '<https://api.github.com/x?page=1>; rel="prev first"' | add github link-prev 6

# Environment files (choice byte: 0 declared, 1 present_dotenv,
# 2 present_names).
for f in seeds/dotenv/*; do
    name=$(basename "$f")
    case "$name" in
        declared*) n=0 ;; present-dotenv*) n=1 ;; names*) n=2 ;; *) n=0 ;;
    esac
    add dotenv "$name" "$n" < "$f"
done

# Bundles: the e2e fixtures' sources, and what `shipgate` makes of them with
# two fresh keys (a built and a signed `.bundle`, a trust file, signed
# exceptions from seeds/exception/).
for f in "$root"/tests/fixtures/bundles/*/bundle.toml; do
    add bundle_toml "$(basename "$(dirname "$f")")" < "$f"
done
work=$(mktemp -d)
keygen() { # keygen NAME: makes NAME.key in $work; prints its [[keys]] table
    (cd "$work" && "$bin" keygen "$1") | sed -n '/^\[\[keys\]\]/,$p'
}
release=$(keygen org-release)
oncall=$(keygen oncall)
id() { printf '%s\n' "$1" | sed -n 's/^id = //p'; }
for b in payments org; do
    "$bin" bundle build "$root/tests/fixtures/bundles/$b" -o "$work/$b.bundle" >/dev/null
done
add bundle_file payments.bundle < "$work/payments.bundle"
"$bin" bundle sign "$work/org.bundle" --key "$work/org-release.key" >/dev/null
add bundle_file org-signed.bundle < "$work/org.bundle"

# Trust files: one key for bundles; two keys, a 2-of-2 rule and an
# [exceptions] table.
printf '%s\n[[bundles]]\nscope = "acme/*"\nkeys = [%s]\n' "$release" "$(id "$release")" |
    add trust_toml bundles
printf '%s\nusage = ["bundles", "exceptions"]\n\n%s\nusage = ["exceptions"]\n\n[[bundles]]\nscope = "acme/security"\nkeys = [%s]\nthreshold = 1\n\n[[bundles]]\nscope = "acme/**"\nkeys = [%s]\n\n[exceptions]\nkeys = [%s, %s]\nthreshold = 2\nmax_days = 14\n' \
    "$release" "$oncall" "$(id "$release")" "$(id "$release")" "$(id "$release")" "$(id "$oncall")" |
    add trust_toml bundles-and-exceptions

# Exceptions: the sources, and each signed (the second by both keys).
for f in seeds/exception/*.toml; do
    add exception_toml "$(basename "$f")" < "$f"
done
"$bin" exception sign seeds/exception/canary-rule.toml --key "$work/oncall.key" -o "$work/one.exception" >/dev/null
add exception_envelope one-signature.exception < "$work/one.exception"
"$bin" exception sign seeds/exception/service-glob.toml --key "$work/oncall.key" -o "$work/two.exception" >/dev/null
"$bin" exception sign "$work/two.exception" --key "$work/org-release.key" >/dev/null
add exception_envelope two-signatures.exception < "$work/two.exception"
rm -rf "$work"

# Lock files (as `shipgate bundle lock` writes them).
for f in seeds/lock/*; do
    add lock_file "$(basename "$f")" < "$f"
done
