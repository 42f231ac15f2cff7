//go:build e2e

package e2e

import (
	"fmt"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack"
)

// imageStorage is how a signature is stored and which log records it.
type imageStorage struct {
	name   string
	legacy bool // sha256-<hex>.sig/.att tags rather than a bundle referrer
	flags  func(*stack.Env) []string
}

// imageStorages: cosign v3 writes legacy tags only with
// --new-bundle-format=false, and then refuses a signing config: the
// services go by the deprecated URL flags (Rekor v1 only; Rekor v2 needs a
// signing config, hence new bundles).
var imageStorages = []imageStorage{
	{"legacy-rekor-v1", true, func(e *stack.Env) []string {
		return []string{"--new-bundle-format=false", "--use-signing-config=false", "--rekor-url", e.RekorV1URL,
			"--fulcio-url", e.FulcioURL, "--timestamp-server-url", e.TSAURL, "--trusted-root", e.TrustedRoot}
	}},
	{"bundle-rekor-v1", false, func(e *stack.Env) []string {
		return []string{"--signing-config", e.SigningConfigV1, "--trusted-root", e.TrustedRoot}
	}},
	{"bundle-rekor-v2", false, func(e *stack.Env) []string {
		return []string{"--signing-config", e.SigningConfigV2, "--trusted-root", e.TrustedRoot}
	}},
}

// TestImageInterop: {sign, attest} × {keyless, key} × {legacy tags,
// bundle referrers on Rekor v1 and v2} × {signet signs and cosign v3
// verifies, cosign v3 signs and signet verifies} × {crane's registry
// without the referrers API, a registry with it}. Each case checks where
// the signature landed and that the verified payload names the image.
// cosign signing for cosign is the control: it shows what the stack and
// cosign do when a signet case fails.
func TestImageInterop(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosignBin := env.RequireCosign(t)
	cosign, signet := cosignTool(env, cosignBin), signetTool()
	keys := newImageKeys(t, env, cosignBin)
	pred := writeFile(t, t.TempDir(), "provenance.json", imageProvenance)
	registries := imageRegistries(t, env)
	req := stack.TokenRequest{ProjectPath: "acme/images", Ref: "main"}

	for _, verb := range []string{"sign", "attest"} {
		for _, keyless := range []bool{true, false} {
			for _, st := range imageStorages {
				for _, pair := range [][2]imageTool{{signet, cosign}, {cosign, signet}, {cosign, cosign}} {
					for _, reg := range registries {
						signer, verifier := pair[0], pair[1]
						name := fmt.Sprintf("%s/%s/%s/%s-signs-%s-verifies/%s", verb, idName(keyless), st.name, signer.name, verifier.name, reg.name)
						t.Run(name, func(t *testing.T) {
							ref := env.PushRandomImageTo(t, reg.host, "e2e/interop")
							args, vars, verify := imageCommands(t, env, verb, keyless, keys, pred, req, st.flags(env))
							signer.ok(t, vars, append(args, ref)...)
							checkStored(t, env, reg, st.legacy, verb, ref)
							wantDigest(t, verifier.ok(t, nil, append(verify, ref)...), ref)
						})
					}
				}
			}
		}
	}
}

// imageCommands returns the arguments of a sign or attest (verb) with
// flags, keyless with a token minted with req or with keys, the
// environment it needs, and the verify or verify-attestation command for
// it (the image reference to be appended to both).
func imageCommands(t *testing.T, env *stack.Env, verb string, keyless bool, keys imageKeys, pred string, req stack.TokenRequest,
	flags []string) (sign []string, vars map[string]string, verify []string) {
	t.Helper()
	sign = append([]string{verb, "--yes"}, flags...)
	verify = []string{"verify"}
	if verb == "attest" {
		sign = append(sign, "--predicate", pred, "--type", "slsaprovenance1")
		verify = []string{"verify-attestation", "--type", "slsaprovenance1"}
	}
	if keyless {
		return append(sign, "--identity-token", env.Token(t, req)), nil, append(verify, keylessPolicy(env, req)...)
	}
	return append(sign, "--key", keys.key), keys.vars, append(verify, keys.policy(env)...)
}

func idName(keyless bool) string {
	if keyless {
		return "keyless"
	}
	return "key"
}

// checkStored checks that one signature or attestation of ref is stored as
// cosign v3 stores it: a sha256-<hex>.sig/.att tag (legacy), or a bundle
// referrer, listed by the referrers API where the registry has one (and
// then no sha256-<hex> fallback tag) and by the fallback index otherwise.
func checkStored(t *testing.T, env *stack.Env, reg imageRegistry, legacy bool, verb, ref string) {
	t.Helper()
	repo, prefix := repoOf(t, ref), tagPrefix(t, ref)
	suffix, predicateType := ".sig", signPredicateType
	if verb == "attest" {
		suffix, predicateType = ".att", slsaV1Type
	}
	if legacy {
		if !hasTag(t, env, repo, prefix+suffix) {
			t.Errorf("legacy mode: no tag %s in %s: %v", prefix+suffix, repo, env.Tags(t, repo))
		}
		return
	}
	if hasTag(t, env, repo, prefix+suffix) {
		t.Errorf("bundle mode wrote the legacy tag %s", prefix+suffix)
	}
	if got := hasTag(t, env, repo, prefix); got == reg.referrers {
		t.Errorf("referrers API %v, fallback tag %s present %v: want it exactly when the registry has no referrers API", reg.referrers, prefix, got)
	}
	refs := env.Referrers(t, ref)
	if len(refs) != 1 {
		t.Fatalf("%d referrers of %s, want 1: %+v", len(refs), ref, refs)
	}
	if reg.referrers {
		// ggcr's registry lists a referrer's annotations but takes its
		// artifactType from config.mediaType, not the manifest's.
		if got := refs[0].Annotations["dev.sigstore.bundle.predicateType"]; got != predicateType {
			t.Errorf("referrer predicateType annotation %q, want %q", got, predicateType)
		}
	} else if refs[0].ArtifactType != bundleMediaType {
		// cosign v3.1.3's ggcr writes no annotations in the fallback index
		// (ggcr < v0.22.1), so only the artifactType is common ground.
		t.Errorf("fallback index lists artifactType %q, want %q", refs[0].ArtifactType, bundleMediaType)
	}
}

// TestImageCosignV2Legacy: legacy signatures and attestations written by
// cosign v2.6.1 (keyless on Rekor v1 with a timestamp, and with a key)
// verify with signet, as with cosign v3 (the control).
func TestImageCosignV2Legacy(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosignBin := env.RequireCosign(t)
	if env.CosignV2 == "" {
		t.Skip("cosign v2 is not installed (it is optional; see hack/local-stack install's log)")
	}
	v2, v3, signet := cosignTool(env, env.CosignV2), cosignTool(env, cosignBin), signetTool()
	keys := newImageKeys(t, env, cosignBin)
	pred := writeFile(t, t.TempDir(), "provenance.json", imageProvenance)
	req := stack.TokenRequest{ProjectPath: "acme/images-v2", Ref: "main"}
	for _, verb := range []string{"sign", "attest"} {
		for _, keyless := range []bool{true, false} {
			for _, reg := range imageRegistries(t, env) {
				t.Run(fmt.Sprintf("%s/%s/%s", verb, idName(keyless), reg.name), func(t *testing.T) {
					ref := env.PushRandomImageTo(t, reg.host, "e2e/cosign-v2")
					// cosign v2's service flags: no signing config, legacy storage.
					args, vars, verify := imageCommands(t, env, verb, keyless, keys, pred, req, []string{"--rekor-url", env.RekorV1URL,
						"--timestamp-server-url", env.TSAURL, "--fulcio-url", env.FulcioURL, "--trusted-root", env.TrustedRoot})
					v2.ok(t, vars, append(args, ref)...)
					checkStored(t, env, reg, true, verb, ref)
					wantDigest(t, v3.ok(t, nil, append(verify, ref)...), ref)
					wantDigest(t, signet.ok(t, nil, append(verify, ref)...), ref)
				})
			}
		}
	}
}
