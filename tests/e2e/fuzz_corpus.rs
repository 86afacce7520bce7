//! The fuzz corpora (`fuzz/corpus/<target>/`) replayed on the stable
//! toolchain through the same entry points the fuzz targets call
//! (`shipgate::fuzzing`), with their invariants:
//!
//! - no input panics, and each keeps [`fuzzing::check`] (output at most
//!   linear in the input; a source's error is one line; a bundle target's
//!   error names its file or bundle, and what it accepts round-trips);
//! - memory stays bounded: the replay runs in a child process (this test
//!   binary again) whose address space is capped with `ulimit -v`, on a
//!   test thread's 2 MiB stack, so an input that allocates without bound
//!   or recurses without bound kills the child and fails the test, naming
//!   the input; a second test checks the cap is really in force;
//! - a snapshot that lacks canary data is never `go` at the canary stage
//!   under the built-in default policies, for every corpus snapshot and for
//!   each way of taking its canary data away.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Command;

use shipgate::fuzzing::{self, CanaryCheck, Scratch, Target};
use shipgate_model::Verdict;

use crate::support::shared_cache;

/// The address-space cap of the replaying child, in KiB.
const MEMORY_CAP_KIB: u64 = 2 * 1024 * 1024;
/// Set in the child's environment: what it does.
const CHILD_ENV: &str = "SHIPGATE_FUZZ_REPLAY";

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// The corpus files of `target`, sorted.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// This test binary run as a child on `test`, under the memory cap, with
/// `CHILD_ENV=mode`; its exit status and output.
fn child(test: &str, mode: &str) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_CAP_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(exe)
        .args([
            test,
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_ENV, mode)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn every_corpus_input_keeps_the_invariants_under_a_memory_cap() {
    let (ok, output) = child("fuzz_corpus::replay_child", "replay");
    let last = output
        .lines()
        .rfind(|l| l.starts_with("replaying "))
        .unwrap_or("no input started");
    assert!(
        ok,
        "the replay failed (last input started: {last}):\n{output}"
    );
    assert!(output.contains("replayed every corpus"), "{output}");
}

#[test]
fn the_memory_cap_is_in_force() {
    let (ok, output) = child("fuzz_corpus::replay_child", "hog");
    assert!(!ok, "allocating past the cap succeeded:\n{output}");
    assert!(output.contains("memory allocation"), "{output}");
}

/// Run by the two tests above in a child process.
#[test]
#[ignore = "run under a memory cap by every_corpus_input_keeps_the_invariants_under_a_memory_cap"]
fn replay_child() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("hog") => {
            let hog = vec![1u8; usize::try_from(MEMORY_CAP_KIB * 2048).unwrap()];
            println!("allocated {} bytes", std::hint::black_box(hog).len());
        }
        Ok("replay") => replay(),
        _ => panic!("run by every_corpus_input_keeps_the_invariants_under_a_memory_cap"),
    }
}

/// How deep the nesting stress inputs go; far past any recursion limit a
/// parser should have, and enough to overflow a 2 MiB stack through a
/// parser that recurses without one.
const DEPTH: usize = 100_000;

/// Inputs no fuzzer reaches in its length limit, made here rather than kept
/// in the corpus (they weigh a megabyte each): nesting far deeper than any
/// real file, and long runs of the input's repeated unit.
fn stress(target: Target) -> Vec<(String, Vec<u8>)> {
    let deep = |open: &str, close: &str, before: &str, after: &str| {
        format!(
            "{before}{}{}{after}",
            open.repeat(DEPTH),
            close.repeat(DEPTH)
        )
        .into_bytes()
    };
    let choice = |byte: u8, rest: Vec<u8>| [vec![byte], rest].concat();
    let json_deep = deep("[", "]", "", "");
    match target {
        Target::Snapshot | Target::DecisionLog => vec![
            ("deep-array".into(), json_deep),
            ("deep-object".into(), deep("{\"a\":", "}", "", "")),
            ("deep-report".into(), deep("[", "]", "{\"report\":", "}")),
        ],
        Target::Config => vec![
            ("deep-array".into(), deep("[", "]", "a = ", "\n")),
            ("deep-inline-table".into(), deep("{a=", "}", "a = ", "\n")),
            (
                "deep-config".into(),
                deep(
                    "{a=",
                    "}",
                    "[[policies]]\nname = \"x\"\nsource = \"builtin:canary\"\n[policies.config]\nb = ",
                    "\n",
                ),
            ),
        ],
        Target::Junit => vec![
            (
                "deep-testsuite".into(),
                deep(
                    "<testsuite>",
                    "</testsuite>",
                    "<testsuites>",
                    "</testsuites>",
                ),
            ),
            (
                "deep-element".into(),
                deep(
                    "<a>",
                    "</a>",
                    "<testsuites><testsuite name=\"s\">",
                    "</testsuite></testsuites>",
                ),
            ),
        ],
        Target::Cobertura => vec![(
            "deep-element".into(),
            deep("<a>", "</a>", "<coverage line-rate=\"0.5\">", "</coverage>"),
        )],
        Target::Lcov => vec![(
            "many-records".into(),
            "SF:a.rs\nDA:1,1\nend_of_record\n"
                .repeat(DEPTH / 2)
                .into_bytes(),
        )],
        Target::Lockfile => vec![
            ("cargo-deep".into(), choice(0, deep("[", "]", "a = ", "\n"))),
            (
                "npm-deep".into(),
                choice(1, deep("{\"dependencies\":{\"a\":", "}}", "", "")),
            ),
            (
                "requirements-continued".into(),
                choice(4, "a\\\n".repeat(DEPTH).into_bytes()),
            ),
        ],
        Target::Prometheus => vec![("deep-array".into(), choice(0, json_deep))],
        Target::Github => vec![
            ("deep-array".into(), choice(4, json_deep)),
            (
                "long-link".into(),
                choice(6, "<a>; rel=next,".repeat(DEPTH).into_bytes()),
            ),
        ],
        Target::BundleToml => {
            let head = "name = \"acme/x\"\nversion = \"1.0.0\"\nsequence = 1\n";
            let policy = format!("{head}[[policies]]\nname = \"p\"\nsource = \"builtin:env\"\n");
            vec![
                (
                    "deep-config".into(),
                    deep("[", "]", &format!("{policy}[policies.config]\nb = "), "\n"),
                ),
                (
                    "deep-description".into(),
                    deep("{a=", "}", &format!("{head}description = "), "\n"),
                ),
                (
                    "many-policies".into(),
                    (0..2000).fold(head.to_owned(), |text, i| {
                        text + &format!("[[policies]]\nname = \"p{i}\"\nsource = \"builtin:env\"\n")
                    })
                    .into_bytes(),
                ),
                (
                    "long-name".into(),
                    format!("name = \"{}\"\n", "a/".repeat(DEPTH)).into_bytes(),
                ),
            ]
        }
        Target::BundleFile => {
            let layout: &[u8] = b"{\"imageLayoutVersion\":\"1.0.0\"}";
            let deep_manifest = deep("{\"a\":", "}", "", "");
            let index = format!(
                "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:{}\",\"size\":{}}}]}}",
                sha256_hex(&deep_manifest),
                deep_manifest.len()
            );
            let many: Vec<(String, Vec<u8>)> = (0..20_000u32)
                .map(|i| (format!("blobs/sha256/{}", sha256_hex(&i.to_le_bytes())), Vec::new()))
                .chain([
                    ("oci-layout".to_owned(), layout.to_vec()),
                    ("index.json".to_owned(), b"{\"schemaVersion\":2,\"manifests\":[]}".to_vec()),
                ])
                .collect();
            vec![
                (
                    "deep-index".into(),
                    tar(&[
                        ("oci-layout", layout),
                        (
                            "index.json",
                            &deep("[", "]", "{\"schemaVersion\":2,\"manifests\":[],\"x\":", "}"),
                        ),
                    ]),
                ),
                (
                    "deep-manifest".into(),
                    tar(&[
                        ("oci-layout", layout),
                        ("index.json", index.as_bytes()),
                        (
                            &format!("blobs/sha256/{}", sha256_hex(&deep_manifest)),
                            &deep_manifest,
                        ),
                    ]),
                ),
                (
                    "many-entries".into(),
                    tar(&many
                        .iter()
                        .map(|(path, data)| (path.as_str(), data.as_slice()))
                        .collect::<Vec<_>>()),
                ),
            ]
        }
        Target::TrustToml => vec![
            ("deep-array".into(), deep("[", "]", "keys = ", "\n")),
            ("deep-inline-table".into(), deep("{a=", "}", "[exceptions]\nkeys = ", "\n")),
            (
                "many-keys".into(),
                "[[keys]]\nid = \"sha256:00\"\npublic = \"AAAA\"\n"
                    .repeat(DEPTH / 4)
                    .into_bytes(),
            ),
            (
                "long-scope".into(),
                format!(
                    "[[bundles]]\nscope = \"{}\"\nkeys = []\n",
                    "a\\n".repeat(DEPTH)
                )
                .into_bytes(),
            ),
        ],
        Target::ExceptionToml => vec![
            ("deep-array".into(), deep("[", "]", "reason = ", "\n")),
            ("deep-inline-table".into(), deep("{a=", "}", "policy = ", "\n")),
            (
                "long-reason".into(),
                format!(
                    "policy = \"canary\"\nenvironment = \"production\"\nreason = \"{}\"\nticket = \"OPS-1\"\nissued = 2027-01-01T00:00:00Z\nexpires = 2027-01-15T00:00:00Z\n",
                    "\\u001b[2K\\n".repeat(DEPTH)
                )
                .into_bytes(),
            ),
        ],
        // Under the 64 KiB a signed exception may have, so that the parser
        // reads them.
        Target::ExceptionEnvelope => vec![
            ("deep-array".into(), "[".repeat(30_000).into_bytes()),
            (
                "deep-payload-type".into(),
                format!("{{\"payloadType\":{}", "{\"a\":".repeat(10_000)).into_bytes(),
            ),
            (
                "many-signatures".into(),
                format!(
                    "{{\"payloadType\":\"application/vnd.shipgate.exception.v1+json\",\"payload\":\"e30=\",\"signatures\":[{}{{}}]}}",
                    "{\"keyid\":\"k\",\"sig\":\"AA==\"},".repeat(2_000)
                )
                .into_bytes(),
            ),
            (
                "long-payload-type".into(),
                format!("{{\"payloadType\":\"{}\"}}", "\\u001b[2K\\n".repeat(5_000)).into_bytes(),
            ),
        ],
        Target::LockFile => vec![
            ("deep-array".into(), deep("[", "]", "version = 1\nbundles = ", "\n")),
            (
                "many-bundles".into(),
                format!(
                    "version = 1\n{}",
                    "[[bundles]]\nsource = \"oci://h/a:1\"\ndigest = \"sha256:aa\"\nname = \"a\"\nversion = \"1\"\n"
                        .repeat(DEPTH / 10)
                )
                .into_bytes(),
            ),
        ],
        Target::Dotenv => vec![
            (
                "unclosed-quote".into(),
                choice(0, format!("A=\"{}", "x\n".repeat(DEPTH)).into_bytes()),
            ),
            (
                "many-names".into(),
                choice(2, "NAME\n".repeat(DEPTH).into_bytes()),
            ),
        ],
    }
}

/// `sha256` of `data`, in hex.
fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

/// A ustar archive of regular files, as a `.bundle` file is one.
fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, data) in entries {
        let mut header = [0u8; 512];
        let mut put = |at: usize, bytes: &[u8]| header[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, path.as_bytes());
        put(100, b"0000644\0");
        put(108, b"0000000\0");
        put(116, b"0000000\0");
        put(124, format!("{:011o}\0", data.len()).as_bytes());
        put(136, b"00000000000\0");
        put(148, b"        ");
        put(156, b"0");
        put(257, b"ustar\0");
        put(263, b"00");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn replay() {
    let scratch = Scratch::new().unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    for target in Target::ALL {
        let files = corpus(target.name());
        assert!(!files.is_empty(), "the {} corpus is empty", target.name());
        let inputs = files
            .iter()
            .map(|file| {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(file).unwrap())
            })
            .chain(stress(target));
        for (name, data) in inputs {
            let name = format!("{}/{name}", target.name());
            eprintln!("replaying {name}");
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let outcome = scratch.run(target, &data);
                fuzzing::check(target, &data, &outcome)
            }));
            match run {
                Ok(Ok(())) => {}
                Ok(Err(broken)) => failures.push(format!("{name}: {broken}")),
                Err(_) => failures.push(format!("{name}: panicked")),
            }
            count += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} corpus inputs broke an invariant:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("replayed every corpus: {count} inputs");
}

#[test]
fn snapshots_lacking_canary_data_are_never_promoted() {
    let canary = CanaryCheck::load(&shared_cache()).unwrap();
    let scratch = Scratch::new().unwrap();
    let mut failures = Vec::new();
    let (mut read, mut promoted) = (0, 0);
    for file in corpus(Target::Snapshot.name()) {
        let Ok(snapshot) = scratch.snapshot(&std::fs::read(&file).unwrap()) else {
            continue;
        };
        read += 1;
        if canary.verdict(&snapshot) == Verdict::Go {
            promoted += 1;
        }
        if let Err(broken) = canary.check_all(&snapshot) {
            failures.push(format!("{}: {broken}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The check is not empty: snapshots were read, and some with complete
    // canary data were promoted (and so had something to lose).
    assert!(read >= 10, "only {read} corpus snapshots could be read");
    assert!(promoted > 0, "no corpus snapshot was promoted");
}

#[test]
fn the_bundle_targets_checks_bite() {
    let data = b"x = 1\n";
    let fails =
        |target: Target, parsed: fuzzing::Parsed| fuzzing::check(target, data, &parsed).is_err();
    assert!(!fails(
        Target::TrustToml,
        Err("trust.toml:1:1: key `x`: unknown key `x`".into())
    ));
    assert!(fails(Target::TrustToml, Err("unknown key `x`".into())));
    assert!(fails(
        Target::LockFile,
        Err("/tmp/elsewhere/shipgate.lock:1:1: oops".into())
    ));
    assert!(fails(
        Target::BundleFile,
        Err(format!("{}bundle sha256:aa", fuzzing::ROUND_TRIP_BROKEN))
    ));
    assert!(fails(
        Target::ExceptionToml,
        Err(format!(
            "exception.toml: {}",
            "x".repeat(fuzzing::ERROR_SLACK + 64)
        ))
    ));
    // The other targets keep their own rules.
    assert!(!fails(Target::Config, Err("anything\ngoes".into())));
}
