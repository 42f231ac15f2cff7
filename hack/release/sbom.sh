#!/usr/bin/env bash
# hack/release/sbom.sh (make sbom): a CycloneDX SBOM of the Go modules
# linked into the programs a release ships (signet, signet-policy, the KMS
# plugin; one SBOM each, merged into one), by cyclonedx-gomod (pinned: $CYCLONEDX_GOMOD, or on
# PATH, or go-installed), $DIST_DIR/signet.cdx.json; and, when the release
# archives are there, the in-toto statement that carries it with every
# archive and checksums.txt as subjects, $DIST_DIR/sbom.intoto.json,
# which sign.sh attests.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
version=v1.10.0 # = localstack.CycloneDXGomodVersion
cdx=${CYCLONEDX_GOMOD:-$(command -v cyclonedx-gomod || true)}
if [ -z "$cdx" ]; then
	GOBIN="$work" go install "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$version"
	cdx="$work/cyclonedx-gomod"
fi
mkdir -p "$dist"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
# app: the modules of each program (not test-only ones), with their
# versions and hashes; no serial number, so the output is stable.
for main in signet signet-policy sigstore-kms; do
	"$cdx" app -json -noserial -licenses=false -main "cmd/$main" -output "$work/$main.cdx.json" .
done
release_tool sbom-merge -o "$dist/signet.cdx.json" "$work/signet.cdx.json" "$work/signet-policy.cdx.json" "$work/sigstore-kms.cdx.json"
echo "sbom.sh: wrote $dist/signet.cdx.json" >&2
mapfile -t files < <(archives)
if [ ${#files[@]} -gt 0 ]; then
	release_tool statement -predicate-type https://cyclonedx.org/bom -predicate "$dist/signet.cdx.json" \
		-o "$dist/sbom.intoto.json" "${files[@]}" "$dist/checksums.txt"
	echo "sbom.sh: wrote $dist/sbom.intoto.json" >&2
fi
