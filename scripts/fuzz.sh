#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) with cargo-fuzz on the nightly toolchain:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      targets: config, expr, headers (default: all)
#
# Each target's corpus (fuzz/corpus/TARGET, not committed) is seeded afresh from the test
# corpora, the example configs and fuzz/seeds, and keeps what earlier runs found. Every target
# runs; the script exits 1 if any of them failed: a build that fails, a crash or panic, an input
# slower than 10 s, more than 2 GB of memory, or a run that reports no executions. A failing
# input is left in fuzz/artifacts/TARGET/: turn it into a regression test in the normal test
# suite. The summary at the end gives each target's executions or why it failed, and a failure
# also prints the end of that target's log (fuzz/corpus/TARGET.log).
#
# tests/it/robustness/fuzz_script.rs runs this script against a fake `cargo` to show that each of
# those failures fails it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(config expr headers)
fi

seed() {
    local target=$1
    local dir=fuzz/corpus/$target
    mkdir -p "$dir"
    case $target in
        config)
            for f in tests/data/corpus/bad/*.json tests/data/corpus/good/*.json example_config.json tests/data/golden/config.json; do
                cp "$f" "$dir/seed-$(echo "$f" | tr '/' '-')"
            done
            ;;
        expr | headers)
            for f in fuzz/seeds/"$target"/*; do
                cp "$f" "$dir/seed-$(basename "$f")"
            done
            ;;
    esac
}

# Why a target's run failed, from the status of `cargo fuzz` and its log; nothing if it passed.
failure() {
    local status=$1 log=$2
    if grep -qE '^error(\[E[0-9]+\])?: |could not compile' "$log"; then
        echo "the build failed"
    elif grep -qE 'ERROR: libFuzzer: timeout' "$log"; then
        echo "an input took longer than the timeout"
    elif grep -qE 'ERROR: libFuzzer: (out-of-memory|malloc limit)' "$log"; then
        echo "an input ran out of memory"
    elif grep -qE 'panicked|ERROR: libFuzzer|SUMMARY: (Address|Undefined|Leak)Sanitizer|Test unit written' "$log"; then
        echo "an input crashed it"
    elif [ "$status" -ne 0 ]; then
        echo "cargo fuzz failed"
    elif ! grep -qE '^stat::number_of_executed_units: *[1-9]' "$log"; then
        echo "it reported no executions"
    fi
}

summary=()
failed=0
for target in "${targets[@]}"; do
    seed "$target"
    options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
    if [ "$target" = config ]; then
        options+=(-dict=fuzz/config.dict)
    fi
    log=fuzz/corpus/$target.log
    echo "== fuzzing $target for $seconds s"
    # -a: debug assertions (and so overflow checks) in the fuzzed build. The whole output goes to
    # the log and only libFuzzer's progress and errors to the terminal; cargo's own status is kept
    # (PIPESTATUS), since a build that fails prints nothing the filter shows.
    set +e
    cargo +nightly fuzz run -a "$target" "fuzz/corpus/$target" -- "${options[@]}" 2>&1 | tee "$log" |
        grep -E '^(#[0-9]+.*(pulse|DONE)|==[0-9]+==|thread|panicked|SUMMARY|stat::)'
    status=${PIPESTATUS[0]}
    set -e
    why=$(failure "$status" "$log")
    if [ -n "$why" ]; then
        failed=1
        echo "== $target FAILED: $why (cargo fuzz exited with status $status); the end of $log:" >&2
        tail -n 30 "$log" >&2
        summary+=("$target: FAILED: $why; see $log and fuzz/artifacts/$target/")
        continue
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    summary+=("$target: $runs executions in $seconds s, corpus of $(ls "fuzz/corpus/$target" | wc -l) inputs, no failure")
done
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo "fuzzing failed" >&2
    exit 1
fi
