#!/usr/bin/env bash
# make demo: signet's main job on this machine — sign, then verify.
#  1. a key pair made by signet, a blob signed with it, verified (offline);
#  2. keyless against the local Sigstore stack — the one running, or one it
#     starts in minimal mode and stops afterwards (DEMO_KEEP_STACK=1 keeps
#     it): a GitLab-shaped token from the stack's issuer, a Fulcio
#     certificate, Rekor and a timestamp, for a blob and an image, verified
#     with the GitLab identity; a wrong identity refused;
#  3. the real npm provenance of sigstore@2.0.0, when ../shared is there.
set -euo pipefail
cd "$(dirname "$0")/.."
signet=$PWD/bin/signet
work=$(mktemp -d)
. hack/demo-stack.sh
trap 'stack_down; rm -rf "$work"' EXIT
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

echo
echo "== keyless, as a GitLab CI job would sign, against a local Sigstore stack"
stack_up  # (hack/demo-stack.sh) reuse a healthy stack, or start a minimal one
set -a; eval "$("$demo_stack" env)"; set +a
sign_flags=(--yes --signing-config "$SIGNET_STACK_SIGNING_CONFIG" --trusted-root "$SIGNET_STACK_TRUSTED_ROOT")
verify_flags=(--trusted-root "$SIGNET_STACK_TRUSTED_ROOT" --certificate-oidc-issuer "$SIGNET_STACK_OIDC_ISSUER")
if [ "$SIGNET_STACK_MODE" = minimal ]; then
	# the minimal stack has no CT log, so its certificates carry no SCT
	sign_flags+=(--insecure-skip-verify)
	verify_flags+=(--insecure-ignore-sct)
fi
identity="https://$SIGNET_STACK_GITLAB_HOST/acme/demo//.gitlab-ci.yml@refs/heads/main"
# What GitLab gives a job with id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore
SIGSTORE_ID_TOKEN=$(curl -sf "$SIGNET_STACK_OIDC_TOKEN_URL?project_path=acme/demo" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
export SIGSTORE_ID_TOKEN
image=$SIGNET_STACK_REGISTRY/acme/demo
head -c 2048 /dev/urandom >"$work/layer.bin"
tar -cf "$work/layer.tar" -C "$work" layer.bin
"$SIGNET_STACK_CRANE" append --new_layer "$work/layer.tar" --new_tag "$image:latest" >/dev/null 2>&1
digest="$image@$("$SIGNET_STACK_CRANE" digest "$image:latest")"
(set -x
	"$signet" sign-blob "${sign_flags[@]}" --bundle "$work/keyless.sigstore.json" "$work/artifact.txt"
	"$signet" verify-blob --bundle "$work/keyless.sigstore.json" "${verify_flags[@]}" \
		--certificate-identity "$identity" --certificate-source-repository-ref refs/heads/main "$work/artifact.txt"
	"$signet" sign "${sign_flags[@]}" "$digest"
	"$signet" verify "${verify_flags[@]}" --certificate-identity "$identity" "$digest" >/dev/null)
echo
echo "== someone else's identity is refused"
wrong="https://$SIGNET_STACK_GITLAB_HOST/mallory/demo//.gitlab-ci.yml@refs/heads/main"
if (set -x; "$signet" verify-blob --bundle "$work/keyless.sigstore.json" "${verify_flags[@]}" \
	--certificate-identity "$wrong" "$work/artifact.txt"); then
	echo "demo: a wrong identity was accepted" >&2
	exit 1
fi
echo
echo "keyless: $work/artifact.txt and $digest signed with a Fulcio certificate for"
echo "  $identity (issuer $SIGNET_STACK_OIDC_ISSUER),"
echo "  logged in Rekor, timestamped; verified with that identity; another identity refused."

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
