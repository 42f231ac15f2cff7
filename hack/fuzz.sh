#!/usr/bin/env bash
# make fuzz: run every fuzz target in the module for FUZZTIME each (their
# seed corpora already run in `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
for pkg in $(go list ./...); do
	for t in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "== $pkg $t"
		go test "$pkg" -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME"
	done
done
