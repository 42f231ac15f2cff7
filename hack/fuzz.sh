#!/usr/bin/env bash
# Run every fuzz target in the module for FUZZTIME each (their seed corpora
# already run in `make test`, as go test runs seeds).
#
#   make fuzz                      30s per target (FUZZTIME=10m for a campaign)
#   make fuzz-ci                   the bounded CI step: FUZZTIME=3s per target,
#                                  no new target after FUZZ_BUDGET=150s
#
# FUZZ_BUDGET (seconds, 0 = none) stops starting targets once spent and
# names the ones skipped, so CI stays bounded even on a slow machine.
# A crash fails the run; go test writes the input to the package's
# testdata/fuzz/<Target>/, where it becomes a seed once committed.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
FUZZ_BUDGET=${FUZZ_BUDGET:-0}
start=$SECONDS
skipped=()
status=0
for pkg in $(go list ./...); do
	for t in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		if [ "$FUZZ_BUDGET" -gt 0 ] && [ $((SECONDS - start)) -ge "$FUZZ_BUDGET" ]; then
			skipped+=("$pkg.$t")
			continue
		fi
		t0=$SECONDS
		if ! go test "$pkg" -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME"; then
			echo "== FAIL $pkg $t"
			status=1
		fi
		echo "== $pkg $t: $((SECONDS - t0))s"
	done
done
if [ ${#skipped[@]} -gt 0 ]; then
	echo "fuzz: budget of ${FUZZ_BUDGET}s spent; not run this time: ${skipped[*]}"
fi
echo "fuzz: $((SECONDS - start))s in all"
exit $status
