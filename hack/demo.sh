#!/usr/bin/env bash
# make demo: signet's main job on this machine — sign, then verify.
#  1. a key pair made by signet, a blob signed with it, verified (offline);
#  2. keyless, when the local Sigstore stack is running (hack/local-stack up):
#     a GitLab-style token from the stack's issuer, a Fulcio certificate,
#     Rekor and a timestamp, verified with the GitLab identity;
#  3. the real npm provenance of sigstore@2.0.0, when ../shared is there.
set -euo pipefail
cd "$(dirname "$0")/.."
signet=$PWD/bin/signet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" # a clean TUF cache, whatever the machine has
mkdir -p "$HOME"
tr=$PWD/internal/trust/embedded/production-trusted-root.json

echo "== key pair: generate, sign-blob, verify-blob"
echo "hello from signet" >"$work/artifact.txt"
export COSIGN_PASSWORD=demo
(set -x
	"$signet" generate-key-pair --output-key-prefix "$work/cosign"
	"$signet" sign-blob --key "$work/cosign.key" --tlog-upload=false --use-signing-config=false \
		--trusted-root "$tr" --bundle "$work/artifact.sigstore.json" "$work/artifact.txt"
	"$signet" verify-blob --key "$work/cosign.pub" --insecure-ignore-tlog --bundle "$work/artifact.sigstore.json" "$work/artifact.txt")

if hack/local-stack status >/dev/null 2>&1; then
	echo
	echo "== keyless against the local Sigstore stack"
	set -a; eval "$(hack/local-stack env)"; set +a
	SIGSTORE_ID_TOKEN=$(curl -sf "$SIGNET_STACK_OIDC_TOKEN_URL?project_path=acme/demo" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
	export SIGSTORE_ID_TOKEN
	(set -x
		"$signet" sign-blob --yes --signing-config "$SIGNET_STACK_SIGNING_CONFIG" --trusted-root "$SIGNET_STACK_TRUSTED_ROOT" \
			--bundle "$work/keyless.sigstore.json" "$work/artifact.txt"
		"$signet" verify-blob --bundle "$work/keyless.sigstore.json" --trusted-root "$SIGNET_STACK_TRUSTED_ROOT" \
			--certificate-identity "https://$SIGNET_STACK_GITLAB_HOST/acme/demo//.gitlab-ci.yml@refs/heads/main" \
			--certificate-oidc-issuer "$SIGNET_STACK_OIDC_ISSUER" --certificate-source-repository-ref refs/heads/main \
			"$work/artifact.txt")
else
	echo
	echo "(the local Sigstore stack is not running: \`make stack-up\` and run again for the keyless demo)"
fi

shared=../shared/testdata
if [ -d "$shared" ]; then
	echo
	echo "== the real npm provenance of sigstore@2.0.0, offline"
	(set -x; "$signet" verify-blob-attestation \
		--bundle "$shared/public-good/npm-sigstore-2.0.0.provenance.sigstore.json" \
		--type slsaprovenance1 \
		--certificate-identity https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main \
		--certificate-oidc-issuer https://token.actions.githubusercontent.com \
		--certificate-source-repository-ref refs/heads/main \
		--trusted-root "$shared/trust/production-trusted-root.json" \
		"$shared/public-good/sigstore-2.0.0.tgz")
fi
