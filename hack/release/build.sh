#!/usr/bin/env bash
# hack/release/build.sh (make dist): the release archives of signet.
#
# For each of DIST_PLATFORMS (os/arch, default: linux, darwin, windows ×
# amd64, arm64) it runs `make build` into a directory of its own and
# archives everything that build put there (signet, and any plugin binaries
# `make build` adds beside it) with README.md: $DIST_DIR/signet_<os>_<arch>.tar.gz
# (.zip for windows). Then $DIST_DIR/checksums.txt (sha256sum format).
#
# Reproducible: -trimpath, no build ID, the build date and every archive
# entry's time are SOURCE_DATE_EPOCH (default: the commit's time), entries
# sorted, owned by root, no user names. Two runs on one commit, in any
# directory on any day, give the same bytes.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
platforms=${DIST_PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

rm -rf "$dist"
mkdir -p "$dist"
for p in $platforms; do
	os=${p%/*} arch=${p#*/}
	if [ -z "$os" ] || [ -z "$arch" ] || [ "$os" = "$p" ]; then
		echo "build.sh: DIST_PLATFORMS: \"$p\" is not os/arch" >&2
		exit 2
	fi
	out="$work/${os}_${arch}"
	echo "build.sh: building $os/$arch" >&2
	make -s build GOOS="$os" GOARCH="$arch" BINDIR="$out"
	ext=tar.gz exe=
	if [ "$os" = windows ]; then ext=zip exe=.exe; fi
	[ -f "$out/signet$exe" ] || { echo "build.sh: make build left no $out/signet$exe" >&2; exit 1; }
	release_tool archive -o "$dist/signet_${os}_${arch}.$ext" "$out"/* README.md
done
mapfile -t files < <(archives)
release_tool checksums -o "$dist/checksums.txt" "${files[@]}"
cat "$dist/checksums.txt" >&2
