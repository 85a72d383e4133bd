#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) with cargo-fuzz on the nightly toolchain:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      targets: config, expr, headers (default: all)
#
# Each target's corpus (fuzz/corpus/TARGET, not committed) is seeded afresh from the test
# corpora, the example configs and fuzz/seeds, and keeps what earlier runs found. A crash, a
# panic or an input slower than 10 s stops the run with a non-zero status and leaves the input in
# fuzz/artifacts/TARGET/: turn it into a regression test in the normal test suite. The summary at
# the end gives each target's executions.
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

summary=()
for target in "${targets[@]}"; do
    seed "$target"
    options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
    if [ "$target" = config ]; then
        options+=(-dict=fuzz/config.dict)
    fi
    log=fuzz/corpus/$target.log
    echo "== fuzzing $target for $seconds s"
    # -a: debug assertions (and so overflow checks) in the fuzzed build.
    if ! cargo +nightly fuzz run -a "$target" "fuzz/corpus/$target" -- "${options[@]}" 2>&1 | tee "$log" | grep -E '^(#[0-9]+.*(NEW|pulse|DONE)|==[0-9]+==|thread|panicked|SUMMARY|stat::)' | grep -vE 'NEW' ; then
        :
    fi
    if grep -qE 'panicked|ERROR: libFuzzer|SUMMARY: (Address|Undefined|Leak)Sanitizer|Test unit written' "$log"; then
        echo "== $target FAILED: see $log and fuzz/artifacts/$target/" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    summary+=("$target: ${runs:-?} executions in $seconds s, corpus of $(ls "fuzz/corpus/$target" | wc -l) inputs, no failure")
done
printf '%s\n' "${summary[@]}"
