#!/usr/bin/env bash
# hack/release/verify.sh: check a signed release in $DIST_DIR as a user
# would, against the exact GitLab identity of the pipeline that signed it:
#   identity  $CI_PROJECT_URL//.gitlab-ci.yml@refs/heads/$CI_COMMIT_REF_NAME
#             (refs/tags/$CI_COMMIT_TAG in a tag pipeline)
#   issuer    $CI_SERVER_URL
# and the certificate's extensions for the ref (.14), the commit (.13),
# the repository (.12), the pipeline's trigger (.20) and a job of this
# project (.21). Override with VERIFY_IDENTITY, VERIFY_IDENTITY_REGEXP (e.g.
# '^https://gitlab\.com/acme/signet//\.gitlab-ci\.yml@refs/tags/v'),
# VERIFY_ISSUER. Then checksums.txt against the archives, and the
# provenance and SBOM attestations for every archive. Set COSIGN to a
# cosign binary to verify the signatures with it too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${CI_PROJECT_URL:?verify.sh: CI_PROJECT_URL is not set}" "${CI_SERVER_URL:?}" "${CI_COMMIT_SHA:?}"
if [ -n "${CI_COMMIT_TAG:-}" ]; then
	ref="refs/tags/$CI_COMMIT_TAG"
else
	ref="refs/heads/${CI_COMMIT_REF_NAME:?}"
fi
identity=(--certificate-identity "${VERIFY_IDENTITY:-$CI_PROJECT_URL//.gitlab-ci.yml@$ref}")
if [ -n "${VERIFY_IDENTITY_REGEXP:-}" ]; then
	identity=(--certificate-identity-regexp "$VERIFY_IDENTITY_REGEXP")
fi
project_re=$(printf '%s' "$CI_PROJECT_URL" | sed 's/[].[\\*^$+?(){}|]/\\&/g')
policy=("${identity[@]}"
	--certificate-oidc-issuer "${VERIFY_ISSUER:-$CI_SERVER_URL}"
	--certificate-source-repository-ref "$ref"
	--certificate-source-repository-digest "$CI_COMMIT_SHA"
	--certificate-source-repository-uri "$CI_PROJECT_URL"
	--certificate-build-trigger "${CI_PIPELINE_SOURCE:-push}"
	--certificate-run-invocation-uri-regexp "^$project_re/-/jobs/[0-9]+\$")
signet=$(release_signet)
mapfile -t files < <(archives)
if [ ${#files[@]} -eq 0 ]; then
	echo "verify.sh: no release archives in $dist" >&2
	exit 1
fi
for f in "${files[@]}" "$dist/checksums.txt"; do
	"$signet" verify-blob --bundle "$f.sigstore.json" "${policy[@]}" "$f"
	if [ -n "${COSIGN:-}" ]; then
		"$COSIGN" verify-blob --bundle "$f.sigstore.json" "${identity[@]}" \
			--certificate-oidc-issuer "${VERIFY_ISSUER:-$CI_SERVER_URL}" ${COSIGN_TRUSTED_ROOT:+--trusted-root "$COSIGN_TRUSTED_ROOT"} "$f"
	fi
done
(cd "$dist" && sha256sum -c checksums.txt)
for f in "${files[@]}"; do
	"$signet" verify-blob-attestation --bundle "$dist/provenance.sigstore.json" --type slsaprovenance1 "${policy[@]}" "$f"
	"$signet" verify-blob-attestation --bundle "$dist/sbom.sigstore.json" --type cyclonedx "${policy[@]}" "$f"
done
echo "verify.sh: ${#files[@]} archives, checksums.txt, provenance and SBOM verified for ${identity[*]}" >&2
