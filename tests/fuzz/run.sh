#!/usr/bin/env bash
# Run the libFuzzer harnesses built in FUZZ_BUILD.
#   run.sh FUZZ_BUILD check RUNS TARGET...   replay every seed and regression
#       input, then fuzz each target for RUNS seeded runs (deterministic);
#       what it finds goes to FUZZ_BUILD/artifacts/<target>/
#   run.sh FUZZ_BUILD fuzz SECONDS TARGET... fuzz each target for SECONDS,
#       growing FUZZ_BUILD/corpus/<target> (the repository's seeds are read,
#       never written), and print libFuzzer's final statistics
#   run.sh FUZZ_BUILD runs N TARGET...       the same, for N executions each
# Long runs keep no allocation stacks (malloc_context_size=0): the harnesses
# allocate on every input and unwinding each malloc cost a fifth of the time.
# Replaying a crash input (check mode, or the binary alone) shows them.
# Exit status 1 when any target crashed, leaked or hung.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1" mode="$2" amount="$3"
shift 3
failed=0

for t in "$@"; do
	bin="$build/fuzz_$t"
	seeds="$here/corpus/$t"
	regress="$here/regressions/$t"
	art="$build/artifacts/$t"
	dict=()
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	mkdir -p "$art" "$seeds"
	# -print_funcs=0: symbolizing new functions crashes LLVM 14's sanitizer
	# runtime (internal_strdup in FillModuleInfo) once the harness has mapped
	# and unmapped memfd pages. The outer timeouts catch any other hang.
	common=(-artifact_prefix="$art/" -timeout=10 -rss_limit_mb=2048 -print_funcs=0 "${dict[@]}")
	if [ "$mode" = check ]; then
		mapfile -t inputs < <(find "$seeds" "$regress" -type f 2>/dev/null | sort)
		if [ "${#inputs[@]}" -gt 0 ] &&
			! timeout 300 "$bin" "${common[@]}" "${inputs[@]}" >"$art/replay.log" 2>&1; then
			echo "FAIL: fuzz_$t: a seed or regression input fails (see $art/replay.log)"
			tail -n 30 "$art/replay.log"
			failed=1
			continue
		fi
		work="$build/ci-corpus/$t"
		rm -rf "$work" && mkdir -p "$work"
		if timeout 300 "$bin" "${common[@]}" -seed=1 -runs="$amount" "$work" "$seeds" \
			>"$art/ci.log" 2>&1; then
			echo "PASS: fuzz_$t: ${#inputs[@]} inputs replayed, $amount seeded runs"
		else
			echo "FAIL: fuzz_$t (see $art/ci.log)"
			tail -n 30 "$art/ci.log"
			failed=1
		fi
	else
		work="$build/corpus/$t"
		mkdir -p "$work"
		if [ "$mode" = runs ]; then
			limit=(-runs="$amount") wall=$((amount / 100 + 300))
		else
			limit=(-max_total_time="$amount") wall=$((amount + 300))
		fi
		ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0}" timeout "$wall" "$bin" "${common[@]}" \
			"${limit[@]}" -print_final_stats=1 "$work" "$seeds" >"$art/fuzz.log" 2>&1
		rc=$?
		echo "== fuzz_$t: exit $rc, corpus $(find "$work" -type f | wc -l) inputs"
		grep -E '^stat::|^#[0-9]+.*DONE|ERROR|SUMMARY' "$art/fuzz.log" | tail -n 12
		[ "$rc" -eq 0 ] || failed=1
	fi
done
exit "$failed"
