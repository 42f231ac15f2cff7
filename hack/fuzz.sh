#!/usr/bin/env bash
# Run every fuzz target in the module for FUZZTIME each (their seed corpora
# already run in `make test`, as go test runs seeds).
#
#   make fuzz                      30s per target (FUZZTIME=10m for a campaign)
#   make fuzz-ci                   the bounded CI step: FUZZTIME=3s per target,
#                                  no new target after FUZZ_BUDGET=150s
#
# FUZZ_BUDGET (seconds of fuzzing, 0 = none) stops starting targets once
# spent and names the ones skipped, so CI stays bounded even on a slow
# machine. The targets are taken in a rotating order (the day number,
# or FUZZ_START), so bounded runs on successive days reach every target,
# not the first few in package order each time.
# A crash fails the run; go test writes the input to the package's
# testdata/fuzz/<Target>/, where it becomes a seed once committed.
#
# Go's fuzzing coordinator can end a duration-bounded run with a bare
# "context deadline exceeded" at the -fuzztime boundary when its workers
# are starved of CPU (go.dev/issue/75804, fixed in Go 1.27, not in the
# Go 1.26 this module builds with):
# no input failed and none is written. Such a run, and only such a run
# (no failing input written, no panic, no failing test line), is run
# once more; a second failure fails.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
FUZZ_BUDGET=${FUZZ_BUDGET:-0}
start=$SECONDS
log=$(mktemp)

# fuzz_one fuzzes target $2 of package $1, its output also in $log.
fuzz_one() {
	go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" 2>&1 | tee "$log"
	return "${PIPESTATUS[0]}"
}

# coordinator_deadline: the failed run in $1 is the coordinator's race
# alone, not a finding.
coordinator_deadline() {
	grep -q 'context deadline exceeded' "$1" &&
		! grep -qE 'Failing input written|panic:|fatal error:|hung or terminated unexpectedly|_test\.go:[0-9]+:' "$1"
}

# crashers lists the inputs saved for target $2 of package $1: a crash
# being minimised when the run ends is saved without the "Failing input
# written" line, so a new file here is a finding whatever the log says.
crashers() {
	local dir
	dir="$(go list -f '{{.Dir}}' "$1")/testdata/fuzz/$2"
	if [ -d "$dir" ]; then
		ls -1 "$dir"
	fi
}

# One go test -list for every package (built in parallel): it prints a
# package's target names, then "ok <package>". A package that does not
# build fails the run here, as its targets would silently go missing.
listing=$(mktemp)
trap 'rm -f "$log" "$listing"' EXIT
if ! go test -list '^Fuzz' ./... >"$listing" 2>&1 || grep -q '^FAIL' "$listing"; then
	cat "$listing"
	echo "fuzz: listing the fuzz targets failed"
	exit 1
fi
targets=()
names=()
while read -r word pkg _; do
	case $word in
	Fuzz*) names+=("$word") ;;
	ok)
		for t in ${names[@]+"${names[@]}"}; do
			targets+=("$pkg $t")
		done
		names=()
		;;
	*) names=() ;;
	esac
done <"$listing"
n=${#targets[@]}
if [ "$n" -eq 0 ]; then
	echo "fuzz: no fuzz targets listed"
	exit 1
fi
first=$(( ${FUZZ_START:-$(( $(date +%s) / 86400 ))} % (n > 0 ? n : 1) ))
echo "fuzz: $n targets listed in $((SECONDS - start))s; starting at number $first"
start=$SECONDS
skipped=()
status=0
for ((k = 0; k < n; k++)); do
	read -r pkg t <<<"${targets[(first + k) % n]}"
	if [ "$FUZZ_BUDGET" -gt 0 ] && [ $((SECONDS - start)) -ge "$FUZZ_BUDGET" ]; then
		skipped+=("$pkg.$t")
		continue
	fi
	t0=$SECONDS
	saved=$(crashers "$pkg" "$t")
	if ! fuzz_one "$pkg" "$t"; then
		if coordinator_deadline "$log" && [ "$(crashers "$pkg" "$t")" = "$saved" ]; then
			echo "== $pkg $t: the fuzzing coordinator's deadline race (go.dev/issue/75804), no failing input: running it once more"
			if ! fuzz_one "$pkg" "$t"; then
				echo "== FAIL $pkg $t"
				status=1
			fi
		else
			echo "== FAIL $pkg $t"
			status=1
		fi
	fi
	echo "== $pkg $t: $((SECONDS - t0))s"
done
if [ ${#skipped[@]} -gt 0 ]; then
	echo "fuzz: budget of ${FUZZ_BUDGET}s spent; not run this time: ${skipped[*]}"
fi
echo "fuzz: $((SECONDS - start))s of fuzzing"
exit $status
