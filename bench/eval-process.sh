#!/usr/bin/env bash
# Times `shipgate eval` as a whole process, warm: start, configuration,
# loading the policies from the component cache, deciding, printing, exit.
#
#   bench/eval-process.sh                          # builds the release binary, 30 runs per case
#   RUNS=100 bench/eval-process.sh
#   SHIPGATE=path/to/shipgate bench/eval-process.sh  # a binary built elsewhere
#
# Each case runs once with an empty component cache (a fresh
# SHIPGATE_CACHE_DIR: the "first run" column; it compiles the components and
# fills the cache), its exit code checked against the verdict it must give,
# then RUNS times warm. Printed per case: the median, min and max wall time
# of the warm runs (hyperfine-style: quote the median; a wide min-max says
# the machine was busy), and the peak RSS of one more warm run (GNU time,
# when /usr/bin/time is there). The first row times /bin/true with the same
# loop: the loop's own cost (bash's fork + exec), included in every row.
# Needs bash 5 ($EPOCHREALTIME).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

runs=${RUNS:-30}
if [[ -z ${SHIPGATE:-} ]]; then
    cargo build --release --locked -q -p shipgate
    SHIPGATE=${CARGO_TARGET_DIR:-target}/release/shipgate
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Microseconds between two $EPOCHREALTIME readings.
micros() { echo $((10#${2/./} - 10#${1/./})); }
# Microseconds as milliseconds with one decimal.
ms() { printf '%d.%d ms' $(($1 / 1000)) $((($1 % 1000) / 100)); }

# timed LABEL EXPECTED_EXIT COMMAND...: runs it once, checks its exit code and
# sets `elapsed` to its wall time in microseconds.
timed() {
    local label=$1 want=$2 start end code=0
    shift 2
    start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || code=$?
    end=$EPOCHREALTIME
    if [[ $code != "$want" ]]; then
        echo "error: $label: exit code $code, expected $want" >&2
        exit 1
    fi
    elapsed=$(micros "$start" "$end")
}

# measure LABEL EXPECTED_EXIT COMMAND...
measure() {
    local label=$1 want=$2
    shift 2
    export SHIPGATE_CACHE_DIR="$scratch/cache-$RANDOM$RANDOM"
    timed "$label" "$want" "$@"
    local first=$elapsed
    local times=() i
    for ((i = 0; i < runs; i++)); do
        timed "$label (run $i)" "$want" "$@"
        times+=("$elapsed")
    done
    local sorted
    mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
    local rss=-
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f %M -o "$scratch/rss" "$@" >/dev/null 2>&1 || true
        rss="$(($(tail -n 1 "$scratch/rss") / 1024)) MiB"
    fi
    printf '%-52s %10s %10s %10s %10s %12s\n' "$label" "$(ms "${sorted[$((runs / 2))]}")" \
        "$(ms "${sorted[0]}")" "$(ms "${sorted[$((runs - 1))]}")" "$rss" "$(ms "$first")"
}

eval_cmd=("$SHIPGATE" eval --snapshot)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "shipgate eval as a process, warm: $runs runs per case; $(date -u +%F), $(nproc) CPUs, $cpu, load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "binary: $SHIPGATE"
printf '%-52s %10s %10s %10s %10s %12s\n' case median min max "peak RSS" "first run"
measure "/bin/true (the loop's own cost)" 0 /bin/true
measure "default config, canary-healthy (go)" 0 \
    "${eval_cmd[@]}" examples/snapshots/canary-healthy.json
measure "default config, canary-error-spike (rollback)" 3 \
    "${eval_cmd[@]}" examples/snapshots/canary-error-spike.json
measure "deployment-agent profile, canary-healthy (go)" 0 \
    "${eval_cmd[@]}" examples/snapshots/canary-healthy.json \
    --config examples/profiles/deployment-agent.toml
measure "deployment-agent.rules twin, canary-healthy (go)" 0 \
    "${eval_cmd[@]}" examples/snapshots/canary-healthy.json \
    --config examples/profiles/deployment-agent.rules.toml
