#!/usr/bin/env bash
# hack/action/install.sh: the shell step of action.yml (the GitHub Action
# that installs signet, a drop-in for sigstore/cosign-installer). It puts a
# signet release on PATH only after checking it:
#   1. a bootstrap signet ($BOOTSTRAP_RELEASE), whose archive must match the
#      sha256 pinned in this repository ($BOOTSTRAP_CHECKSUMS);
#   2. the bootstrap signet verifies the requested release's checksums.txt
#      and archive against their Sigstore bundles, with the pinned identity
#      ($CERTIFICATE_IDENTITY, issuer $CERTIFICATE_OIDC_ISSUER);
#   3. the archive's sha256 must be the one in checksums.txt;
# then extracts it into $INSTALL_DIR, adds a `cosign` alias if asked, and
# appends $INSTALL_DIR to $GITHUB_PATH. Any failure installs nothing.
#
# Environment (action.yml maps its inputs): SIGNET_RELEASE, BASE_URL
# (files are at BASE_URL/<version without v>/NAME), INSTALL_DIR,
# CERTIFICATE_IDENTITY, CERTIFICATE_OIDC_ISSUER, TRUSTED_ROOT (optional),
# COSIGN_ALIAS (true/false), BOOTSTRAP_RELEASE, BOOTSTRAP_CHECKSUMS.
set -euo pipefail
: "${SIGNET_RELEASE:?}" "${BASE_URL:?}" "${INSTALL_DIR:?}" "${CERTIFICATE_IDENTITY:?}" "${CERTIFICATE_OIDC_ISSUER:?}"
: "${BOOTSTRAP_RELEASE:?}" "${BOOTSTRAP_CHECKSUMS:?}"

fail() { echo "signet-installer: $*" >&2; exit 1; }

case "${RUNNER_OS:-$(uname -s)}" in
Linux) os=linux ;;
macOS | Darwin) os=darwin ;;
Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
*) fail "unsupported runner OS ${RUNNER_OS:-$(uname -s)}" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
X64 | x86_64 | amd64) arch=amd64 ;;
ARM64 | arm64 | aarch64) arch=arm64 ;;
*) fail "unsupported runner architecture ${RUNNER_ARCH:-$(uname -m)}" ;;
esac
ext=tar.gz exe=
if [ "$os" = windows ]; then ext=zip exe=.exe; fi
archive="signet_${os}_${arch}.$ext"

sha256() {
	if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}
# pinned_sum FILE NAME: the sha256 of NAME in a checksums.txt
pinned_sum() { awk -v n="$2" '$2 == n || $2 == "*" n { print $1 }' "$1"; }
fetch() {
	curl -fsSL --retry 3 --proto '=https,http' --max-filesize 200000000 -o "$2" "$1" || fail "downloading $1 failed"
}
extract() { # archive dir
	mkdir -p "$2"
	tar -xf "$1" -C "$2" || fail "extracting $1 failed"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. bootstrap: a signet release whose archive digest this repository pins
boot="$BASE_URL/${BOOTSTRAP_RELEASE#v}"
fetch "$boot/$archive" "$work/bootstrap.$ext"
want=$(pinned_sum "$BOOTSTRAP_CHECKSUMS" "$archive")
[ -n "$want" ] || fail "no pinned sha256 for $archive of $BOOTSTRAP_RELEASE in $BOOTSTRAP_CHECKSUMS"
got=$(sha256 "$work/bootstrap.$ext")
[ "$got" = "$want" ] || fail "bootstrap $archive of $BOOTSTRAP_RELEASE has sha256 $got, pinned $want: refusing it"
extract "$work/bootstrap.$ext" "$work/bootstrap"
verifier="$work/bootstrap/signet$exe"

# 2. the requested release, verified by the bootstrap with the pinned identity
rel="$BASE_URL/${SIGNET_RELEASE#v}"
mkdir -p "$work/release"
for f in checksums.txt checksums.txt.sigstore.json "$archive" "$archive.sigstore.json"; do
	fetch "$rel/$f" "$work/release/$f"
done
for f in checksums.txt "$archive"; do
	"$verifier" verify-blob --bundle "$work/release/$f.sigstore.json" \
		--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
		${TRUSTED_ROOT:+--trusted-root "$TRUSTED_ROOT"} "$work/release/$f" 2>"$work/verify.err" ||
		fail "$f of signet $SIGNET_RELEASE is not signed by $CERTIFICATE_IDENTITY: $(tail -1 "$work/verify.err")"
done
# 3. the archive is the one checksums.txt lists
want=$(pinned_sum "$work/release/checksums.txt" "$archive")
got=$(sha256 "$work/release/$archive")
[ -n "$want" ] && [ "$got" = "$want" ] || fail "$archive does not match checksums.txt of $SIGNET_RELEASE"

extract "$work/release/$archive" "$work/install"
"$work/install/signet$exe" version >/dev/null || fail "the installed signet does not run"
mkdir -p "$INSTALL_DIR"
for f in "$work/install"/*; do
	mv -f "$f" "$INSTALL_DIR/"
done
if [ "${COSIGN_ALIAS:-false}" = true ]; then
	if [ "$os" = windows ]; then cp -f "$INSTALL_DIR/signet.exe" "$INSTALL_DIR/cosign.exe"; else ln -sf signet "$INSTALL_DIR/cosign"; fi
fi
if [ -n "${GITHUB_PATH:-}" ]; then echo "$INSTALL_DIR" >>"$GITHUB_PATH"; fi
echo "signet-installer: signet $SIGNET_RELEASE ($os/$arch) verified (signed by $CERTIFICATE_IDENTITY) and installed in $INSTALL_DIR" >&2
