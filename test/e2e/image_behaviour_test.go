//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack"
)

// bundleSign is the flags of a default (new-bundle, Rekor v1) signature.
func bundleSign(env *stack.Env) []string {
	return []string{"--yes", "--signing-config", env.SigningConfigV1, "--trusted-root", env.TrustedRoot}
}

// TestImageRecursiveIndex: `sign -r` of a multi-arch index signs the index
// and every child, one keyless certificate for all; each verifies alone
// with signet and with cosign.
func TestImageRecursiveIndex(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign, signet := cosignTool(env, env.RequireCosign(t)), signetTool()
	req := stack.TokenRequest{ProjectPath: "acme/multiarch", Ref: "main"}
	for _, signer := range []imageTool{signet, cosign} {
		for _, reg := range imageRegistries(t, env) {
			t.Run(signer.name+"-signs/"+reg.name, func(t *testing.T) {
				idx, children := env.PushRandomIndex(t, reg.host, "e2e/multiarch", 3)
				signer.ok(t, nil, append(append([]string{"sign", "-r", "--identity-token", env.Token(t, req)}, bundleSign(env)...), idx)...)
				for _, ref := range append([]string{idx}, children...) {
					if n := len(env.Referrers(t, ref)); n != 1 {
						t.Errorf("%s has %d signatures, want 1", ref, n)
					}
					for _, v := range []imageTool{signet, cosign} {
						wantDigest(t, v.ok(t, nil, append(append([]string{"verify"}, keylessPolicy(env, req)...), ref)...), ref)
					}
				}
			})
		}
	}
}

// TestImageExitCodes: cosign's exit codes for the failures scripts test
// for: 10 no signatures, 11 image tag not found, 12 no matching
// signatures. signet gives them in every storage format. cosign v3.1.3
// does too for legacy signatures, but a bundle that fails the policy is
// exit 1 ("no matching attestations": its bundle path does not wrap the
// error in ErrNoMatchingSignatures); cosign is checked beside signet so a
// change in cosign shows here.
func TestImageExitCodes(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosignBin := env.RequireCosign(t)
	cosign, signet := cosignTool(env, cosignBin), signetTool()
	keys, other := newImageKeys(t, env, cosignBin), newImageKeys(t, env, cosignBin)
	signer := stack.TokenRequest{ProjectPath: "acme/exit-codes", Ref: "main"}
	impostor := stack.TokenRequest{ProjectPath: "acme/impostor", Ref: "main"}

	for _, reg := range imageRegistries(t, env) {
		unsigned := env.PushRandomImageTo(t, reg.host, "e2e/exit-codes")
		t.Run(reg.name, func(t *testing.T) {
			for _, c := range []struct {
				name           string
				signet, cosign int
				args           []string
			}{
				{"unsigned image", 10, 10, append(keys.policy(env), unsigned)},
				{"missing tag", 11, 11, append(keys.policy(env), reg.host+"/e2e/exit-codes:no-such-tag")},
				{"missing repository", 11, 11, append(keys.policy(env), reg.host+"/e2e/no-such-repo:latest")},
			} {
				for _, tl := range []imageTool{signet, cosign} {
					t.Run(c.name+"/"+tl.name, func(t *testing.T) {
						wantFailure(t, tl, map[string]int{"signet": c.signet, "cosign": c.cosign}[tl.name], c.args)
					})
				}
			}
			for _, st := range []imageStorage{imageStorages[0], imageStorages[1]} {
				keyless := env.PushRandomImageTo(t, reg.host, "e2e/exit-codes")
				keyed := env.PushRandomImageTo(t, reg.host, "e2e/exit-codes")
				cosign.ok(t, nil, append(append([]string{"sign", "--yes", "--identity-token", env.Token(t, signer)}, st.flags(env)...), keyless)...)
				cosign.ok(t, keys.vars, append(append([]string{"sign", "--yes", "--key", keys.key}, st.flags(env)...), keyed)...)
				cosignCode := 12
				if !st.legacy {
					cosignCode = 1
				}
				for _, c := range []struct {
					name string
					args []string
				}{
					{"wrong identity", append(keylessPolicy(env, impostor), keyless)},
					{"wrong key", append(other.policy(env), keyed)},
					{"key for a keyless signature", append(keys.policy(env), keyless)},
				} {
					for _, tl := range []imageTool{signet, cosign} {
						t.Run(st.name+"/"+c.name+"/"+tl.name, func(t *testing.T) {
							wantFailure(t, tl, map[string]int{"signet": 12, "cosign": cosignCode}[tl.name], c.args)
						})
					}
				}
			}
		})
	}
}

// wantFailure runs verify with args and wants exit code and nothing on
// stdout.
func wantFailure(t *testing.T, tl imageTool, code int, args []string) {
	t.Helper()
	r := tl.fails(t, code, nil, append([]string{"verify"}, args...)...)
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("a failed verify printed on stdout: %s", r.stdout)
	}
}

// TestImageCosignRepository: with COSIGN_REPOSITORY, signatures (legacy
// tags and bundle referrers) go to that repository and not the image's;
// the other tool finds them there, and verification without the variable
// finds none.
func TestImageCosignRepository(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosignBin := env.RequireCosign(t)
	cosign, signet := cosignTool(env, cosignBin), signetTool()
	keys := newImageKeys(t, env, cosignBin)
	for _, reg := range imageRegistries(t, env) {
		for _, st := range []imageStorage{imageStorages[0], imageStorages[1]} {
			for _, pair := range [][2]imageTool{{signet, cosign}, {cosign, signet}} {
				signer, verifier := pair[0], pair[1]
				t.Run(reg.name+"/"+st.name+"/"+signer.name+"-signs-"+verifier.name+"-verifies", func(t *testing.T) {
					ref := env.PushRandomImageTo(t, reg.host, "e2e/cosign-repository/app")
					sigRepo := reg.host + "/e2e/cosign-repository/signatures"
					vars := map[string]string{"COSIGN_REPOSITORY": sigRepo, "COSIGN_PASSWORD": imagePassword}
					signer.ok(t, vars, append(append([]string{"sign", "--yes", "--key", keys.key}, st.flags(env)...), ref)...)

					prefix := tagPrefix(t, ref)
					moved := sigRepo + "@" + digestOf(t, ref)
					if st.legacy {
						if !hasTag(t, env, sigRepo, prefix+".sig") || hasTag(t, env, repoOf(t, ref), prefix+".sig") {
							t.Errorf("want %s.sig in %s only; tags there %v, in the image's repository %v", prefix, sigRepo,
								env.Tags(t, sigRepo), env.Tags(t, repoOf(t, ref)))
						}
					} else if n, m := len(env.Referrers(t, moved)), len(env.Referrers(t, ref)); n != 1 || m != 0 {
						t.Errorf("%d referrers in %s and %d in the image's repository, want 1 and 0", n, sigRepo, m)
					}
					verify := append(append([]string{"verify"}, keys.policy(env)...), ref)
					wantDigest(t, verifier.ok(t, map[string]string{"COSIGN_REPOSITORY": sigRepo}, verify...), ref)
					verifier.fails(t, 10, nil, verify...)
				})
			}
		}
	}
}

// TestImageKeyPairWorkflow: the classic key-pair CI script, run by each
// tool: generate-key-pair, sign --key, triangulate, attach sbom, sign the
// SBOM image triangulate --type sbom names; both tools verify both images,
// and cosign download sbom returns the SBOM.
func TestImageKeyPairWorkflow(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign, signet := cosignTool(env, env.RequireCosign(t)), signetTool()
	sbom := writeFile(t, t.TempDir(), "spdx.json",
		`{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"app","documentNamespace":"https://example.com/app","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: e2e"]},"packages":[]}`)
	for _, tl := range []imageTool{signet, cosign} {
		for _, reg := range imageRegistries(t, env) {
			t.Run(tl.name+"/"+reg.name, func(t *testing.T) {
				prefix := filepath.Join(t.TempDir(), "cosign")
				pw := map[string]string{"COSIGN_PASSWORD": imagePassword}
				tl.ok(t, pw, "generate-key-pair", "--output-key-prefix", prefix)
				key := imageKeys{prefix + ".key", prefix + ".pub", pw}

				ref := env.PushRandomImageTo(t, reg.host, "e2e/workflow")
				repo, tp := repoOf(t, ref), tagPrefix(t, ref)
				tl.ok(t, pw, append(append([]string{"sign", "--key", key.key}, bundleSign(env)...), ref)...)
				if got, want := strings.TrimSpace(tl.ok(t, nil, "triangulate", ref)), repo+":"+tp+".sig"; got != want {
					t.Errorf("triangulate: %q, want %q", got, want)
				}
				tl.ok(t, nil, "attach", "sbom", "--sbom", sbom, "--type", "spdx", ref)
				sbomTag := strings.TrimSpace(tl.ok(t, nil, "triangulate", "--type", "sbom", ref))
				if want := repo + ":" + tp + ".sbom"; sbomTag != want {
					t.Fatalf("triangulate --type sbom: %q, want %q", sbomTag, want)
				}
				tl.ok(t, pw, append(append([]string{"sign", "--key", key.key}, bundleSign(env)...), sbomTag)...)

				sbomRef := env.Resolve(t, sbomTag)
				for _, v := range []imageTool{signet, cosign} {
					for _, r := range []string{ref, sbomTag} {
						wantDigest(t, v.ok(t, nil, append(append([]string{"verify"}, key.policy(env)...), r)...), map[string]string{ref: ref, sbomTag: sbomRef}[r])
					}
				}
				want, err := os.ReadFile(sbom)
				if err != nil {
					t.Fatal(err)
				}
				if got := cosign.ok(t, nil, "download", "sbom", ref); strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
					t.Errorf("cosign download sbom: %q, want the attached file", got)
				}
			})
		}
	}
}

// TestImageCopyKeepsSignatures: signet copy takes an image with its
// bundle-referrer signature, legacy .sig signature and attestation to
// another repository, where cosign and signet verify all three (cosign
// #4564: verification failing after a copy).
func TestImageCopyKeepsSignatures(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign, signet := cosignTool(env, env.RequireCosign(t)), signetTool()
	keys := newImageKeys(t, env, env.RequireCosign(t))
	pred := writeFile(t, t.TempDir(), "provenance.json", imageProvenance)
	legacy := []string{"--yes", "--new-bundle-format=false", "--use-signing-config=false", "--rekor-url", env.RekorV1URL, "--trusted-root", env.TrustedRoot}
	for _, reg := range imageRegistries(t, env) {
		t.Run(reg.name, func(t *testing.T) {
			ref := env.PushRandomImageTo(t, reg.host, "e2e/copy-src")
			signet.ok(t, keys.vars, append(append([]string{"sign", "--key", keys.key}, bundleSign(env)...), ref)...)
			signet.ok(t, keys.vars, append(append([]string{"sign", "--key", keys.key}, legacy...), ref)...)
			signet.ok(t, keys.vars, append(append([]string{"attest", "--key", keys.key, "--predicate", pred, "--type", "slsaprovenance1"}, bundleSign(env)...), ref)...)

			// A new repository per run: the stack's registry outlives a run.
			dstRepo := reg.host + "/e2e/copy-dst-" + digestOf(t, ref)[len("sha256:"):][:12]
			signet.ok(t, nil, "copy", ref, dstRepo+":v1")
			dst := dstRepo + "@" + digestOf(t, ref)
			for _, v := range []imageTool{signet, cosign} {
				out := v.ok(t, nil, append(append([]string{"verify"}, keys.policy(env)...), dst)...)
				wantDigest(t, out, dst)
				if n := len(verifiedDigests(t, out)); v.name == "signet" && n != 2 {
					t.Errorf("signet verify of the copy: %d signatures, want 2 (bundle and legacy)", n)
				}
				wantDigest(t, v.ok(t, nil, append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, keys.policy(env)...), dst)...), dst)
			}
		})
	}
}

// TestImageGitLabClaims: an image signed keylessly from a GitLab job is
// verified with signet's flags for GitLab's certificate extensions (cosign
// has them only for GitHub); a wrong branch is exit 12, and the error
// names the flag, the expected and the found value.
func TestImageGitLabClaims(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	signet := signetTool()
	req := stack.TokenRequest{ProjectPath: "acme/claims", Ref: "main"}
	ref := env.PushRandomImageTo(t, env.Registry, "e2e/claims")
	signet.ok(t, nil, append(append([]string{"sign", "--identity-token", env.Token(t, req)}, bundleSign(env)...), ref)...)
	policy := append(keylessPolicy(env, req), "--certificate-source-repository-uri", "https://gitlab.example.com/acme/claims")
	wantDigest(t, signet.ok(t, nil, append(append([]string{"verify"}, policy...), "--certificate-source-repository-ref", "refs/heads/main", ref)...), ref)
	r := signet.fails(t, 12, nil, append(append([]string{"verify"}, policy...), "--certificate-source-repository-ref", "refs/heads/release", ref)...)
	for _, want := range []string{"--certificate-source-repository-ref", `"refs/heads/release"`, `"refs/heads/main"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the error does not name %s:\n%s", want, r.stderr)
		}
	}
}
