#!/usr/bin/env bash
# make demo: signet's main job at this stage, verification, on real inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
signet=bin/signet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== key-based: a file signed with a fresh P-256 key (openssl), verified by signet"
echo "hello from signet" >"$work/artifact.txt"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem"
openssl ec -in "$work/key.pem" -pubout -out "$work/key.pub" 2>/dev/null
openssl dgst -sha256 -sign "$work/key.pem" "$work/artifact.txt" | base64 -w0 >"$work/artifact.sig"
(set -x; "$signet" verify-blob --key "$work/key.pub" --signature "$work/artifact.sig" --insecure-ignore-tlog "$work/artifact.txt")

shared=../shared/testdata
if [ -d "$shared" ]; then
  echo
  echo "== keyless: the real npm provenance of sigstore@2.0.0, offline"
  (set -x; "$signet" verify-blob-attestation \
    --bundle "$shared/public-good/npm-sigstore-2.0.0.provenance.sigstore.json" \
    --type slsaprovenance1 \
    --certificate-identity https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com \
    --certificate-source-repository-ref refs/heads/main \
    --trusted-root "$shared/trust/production-trusted-root.json" \
    "$shared/public-good/sigstore-2.0.0.tgz")
else
  echo "(../shared/testdata not found: skipping the npm provenance demo)"
fi
