#!/usr/bin/env bash
# hack/release/sign.sh: sign the release with signet itself (the binary
# from the release archive for this machine, or $SIGNET), keylessly, from
# the job's SIGSTORE_ID_TOKEN (GitLab `id_tokens: SIGSTORE_ID_TOKEN: aud:
# sigstore`):
#   - every archive and checksums.txt in ONE sign-blob run, so one Fulcio
#     certificate covers the release: FILE.sigstore.json beside each;
#   - the SLSA v1 provenance (provenance.sh) and the SBOM statement
#     (sbom.sh) with attest-blob: provenance.sigstore.json, sbom.sigstore.json.
# Signing config and trusted root are the public-good instance's unless
# COSIGN_SIGNING_CONFIG / COSIGN_TRUSTED_ROOT name others (as for cosign).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ -z "${SIGSTORE_ID_TOKEN:-}" ]; then
	echo "sign.sh: SIGSTORE_ID_TOKEN is not set: give the job id_tokens: { SIGSTORE_ID_TOKEN: { aud: sigstore } }" >&2
	exit 1
fi
signet=$(release_signet)
mapfile -t files < <(archives)
if [ ${#files[@]} -eq 0 ]; then
	echo "sign.sh: no release archives in $dist (run build.sh first)" >&2
	exit 1
fi
for f in "$dist/checksums.txt" "$dist/provenance.intoto.json" "$dist/sbom.intoto.json"; do
	[ -f "$f" ] || { echo "sign.sh: $f is missing" >&2; exit 1; }
done
"$signet" sign-blob --yes "${files[@]}" "$dist/checksums.txt"
for s in provenance sbom; do
	"$signet" attest-blob --yes --statement "$dist/$s.intoto.json" --bundle "$dist/$s.sigstore.json" "$dist/checksums.txt" >/dev/null
done
echo "sign.sh: signed ${#files[@]} archives and checksums.txt under one certificate; attested provenance and SBOM" >&2
