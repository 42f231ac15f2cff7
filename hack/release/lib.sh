# hack/release/lib.sh: shared by the release scripts (sourced, not run).
# The release tool (internal/release/cmd/signet-release), built once per
# script run into $work; and the archives of $dist.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dist=${DIST_DIR:-dist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"

release_tool() {
	if [ ! -x "$work/signet-release" ]; then
		go build -trimpath -o "$work/signet-release" ./internal/release/cmd/signet-release
	fi
	"$work/signet-release" "$@"
}

# archives: the release archives in $dist, one per line, in name order.
archives() {
	find "$dist" -maxdepth 1 -type f \( -name 'signet_*.tar.gz' -o -name 'signet_*.zip' \) | LC_ALL=C sort
}

# release_signet: a signet binary for this machine taken from the release
# archives ($SIGNET when set): the release signs and verifies itself.
release_signet() {
	if [ -n "${SIGNET:-}" ]; then
		echo "$SIGNET"
		return
	fi
	local os arch
	os=$(go env GOOS) arch=$(go env GOARCH)
	local a="$dist/signet_${os}_${arch}.tar.gz"
	if [ ! -f "$a" ]; then
		echo "release: no $a to take signet from (set SIGNET=path)" >&2
		return 1
	fi
	mkdir -p "$work/signet"
	tar -xzf "$a" -C "$work/signet" signet
	echo "$work/signet/signet"
}
