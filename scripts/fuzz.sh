#!/usr/bin/env bash
# Build and run every cargo-fuzz target of mmnpy for a bounded time, one after the other, and
# print how many inputs each ran. Not part of CI (time); the crashes it finds are kept under
# tests/fixtures/regressions/<target>/ and replayed by plain `cargo test`.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 120 seconds each, every target
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Seed corpora are
# made from tests/fixtures (numpy's files, the malformed cases, the CSV and npz fixtures) in
# fuzz/corpus/<target>/ (not committed); crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-120}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(header open slice_expr csv npz npy_stack_info)
fi

# Seed corpus for one target: the fixtures that exercise it, plus the kept regressions.
seed() {
    local target="$1" dir="fuzz/corpus/$1"
    mkdir -p "$dir"
    case "$target" in
        header | open)
            find tests/fixtures -name '*.npy' -size -64k -exec cp -t "$dir" {} +
            ;;
        slice_expr)
            # One byte of rank, the dimensions, then the expression.
            local i=0
            for expr in '' '1' '-1' '::-1' '1:3' '..., 0' '10:900:7, ::-2' '[0, :, 1]' \
                ':, ...' '1_000' '+2:-2:2' '::0' '0, 0, 0, 0, 0' '-9223372036854775808:'; do
                printf '\x03\x05\x04\x07%s' "$expr" > "$dir/seed_$i"
                i=$((i + 1))
            done
            ;;
        csv)
            # One byte of options (delimiter, header mode, dtype), then the text.
            local f
            for f in tests/fixtures/formats/*.csv tests/fixtures/formats/*.tsv; do
                case "$f" in *.tsv) printf '\x01' ;; *) printf '\x00' ;; esac > "$dir/$(basename "$f")"
                head -c 16384 "$f" >> "$dir/$(basename "$f")"
            done
            ;;
        npz)
            find tests/fixtures -name '*.npz' -exec cp -t "$dir" {} +
            ;;
        npy_stack_info)
            local i=0 f
            for f in tests/fixtures/scaleout/*/info tests/fixtures/scaleout/*.pickle; do
                [ -f "$f" ] && cp "$f" "$dir/seed_$i" && i=$((i + 1))
            done
            ;;
    esac
    if [ -d "tests/fixtures/regressions/$target" ]; then
        find "tests/fixtures/regressions/$target" -type f -exec cp -t "$dir" {} +
    fi
}

dict_for() {
    case "$1" in
        header | open) echo "-dict=fuzz/dicts/npy.dict" ;;
        slice_expr) echo "-dict=fuzz/dicts/slice.dict" ;;
        csv) echo "-dict=fuzz/dicts/csv.dict" ;;
        *) echo "" ;;
    esac
}

nice cargo +nightly fuzz build

summary=()
failed=0
for target in "${targets[@]}"; do
    seed "$target"
    log="fuzz/artifacts/$target.log"
    mkdir -p "fuzz/artifacts/$target"
    status=0
    # One job at a time (the machine is shared); -timeout turns a hang into a finding.
    # shellcheck disable=SC2046
    nice cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        $(dict_for "$target") > "$log" 2>&1 || status=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    if [ "$status" -eq 0 ]; then
        result="clean"
    else
        result="FAILED (exit $status, see $log and fuzz/artifacts/$target/)"
        failed=1
    fi
    summary+=("$(printf '%-12s %12s executions in %ss: %s' "$target" "$execs" "$seconds" "$result")")
    echo "${summary[-1]}"
done

echo
printf '%s\n' "${summary[@]}"
exit "$failed"
