//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/stack"
)

// The seed workflow (issue 9): sign an image, attach SBOMs made by the
// real syft and a vulnerability report as attestations, and gate on CUE
// and Rego policies over them, with signet and with cosign v3 on the same
// attestations and the same policy files.

const (
	cdxType  = "https://cyclonedx.org/bom"
	spdxType = "https://spdx.dev/Document"
)

// apkInstalled is an Alpine package database listing busybox and
// openssl: syft's apk cataloger reads it, so the SBOM has packages a
// policy can forbid.
const apkInstalled = `P:busybox
V:1.36.1-r2
A:x86_64
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox

P:openssl
V:3.1.0-r0
A:x86_64
T:Toolkit for Transport Layer Security (TLS)
U:https://www.openssl.org/
L:Apache-2.0
o:openssl

`

// pushAlpineLike pushes a one-layer image with an Alpine os-release and
// package database, and a random file so each run gets a new digest (the
// registry outlives runs, and attestations of earlier runs would count).
func pushAlpineLike(t *testing.T, env *stack.Env, repo string) string {
	t.Helper()
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{
		{"etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.0\nPRETTY_NAME=\"Alpine Linux v3.18\"\n"},
		{"lib/apk/db/installed", apkInstalled},
		{"etc/build-id", hex.EncodeToString(nonce) + "\n"},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer := filepath.Join(t.TempDir(), "layer.tar")
	if err := os.WriteFile(layer, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := env.Registry + "/" + repo + ":" + hex.EncodeToString(nonce[:6])
	env.Run(t, env.Crane, "append", "--new_layer", layer, "--new_tag", tag)
	return env.Registry + "/" + repo + "@" + strings.TrimSpace(env.Run(t, env.Crane, "digest", tag))
}

// syftSBOMs runs the real syft on the image in the registry and returns
// its CycloneDX and SPDX JSON files.
func syftSBOMs(t *testing.T, env *stack.Env, syft, ref string) (cdx, spdx string) {
	t.Helper()
	dir := t.TempDir()
	cdx, spdx = filepath.Join(dir, "sbom.cdx.json"), filepath.Join(dir, "sbom.spdx.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := env.Command(t, ctx, syft, "scan", "registry:"+ref, "-o", "cyclonedx-json="+cdx, "-o", "spdx-json="+spdx)
	// The stack's registry is plain HTTP on loopback; nothing else may
	// be contacted.
	cmd.Env = append(cmd.Env, "SYFT_REGISTRY_INSECURE_USE_HTTP=true", "SYFT_CHECK_FOR_APP_UPDATE=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("syft scan %s: %v\n%s", ref, err, stderr.String())
	}
	for _, f := range []string{cdx, spdx} {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, []byte(`"openssl"`)) {
			t.Fatalf("syft's %s does not list openssl (err %v):\n%.2000s", filepath.Base(f), err, b)
		}
	}
	return cdx, spdx
}

func policyFile(name string) string { return filepath.Join("testdata", "policies", name) }

// vulnReport is trivy's CycloneDX output for the image: two
// vulnerabilities, CVE-2023-5363 critical (openssl).
func vulnReport(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "pkg", "attestation", "testdata", "trivy.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSeedWorkflow: keyless with bundles (cosign v3's default storage),
// then a key with legacy .att storage.
func TestSeedWorkflow(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosignBin, syft := env.RequireCosign(t), env.RequireSyft(t)
	cosign, signet := cosignTool(env, cosignBin), signetTool()
	req := stack.TokenRequest{ProjectPath: "acme/seed", Ref: "main"}
	keys := newImageKeys(t, env, cosignBin)
	legacy := []string{"--yes", "--new-bundle-format=false", "--use-signing-config=false", "--rekor-url", env.RekorV1URL, "--trusted-root", env.TrustedRoot}

	for _, mode := range []struct {
		name          string
		sign, verify  []string
		vars          map[string]string
		legacyStorage bool
	}{
		{"keyless-bundle", append([]string{"--identity-token", env.Token(t, req)}, bundleSign(env)...), keylessPolicy(env, req), nil, false},
		{"key-legacy", append([]string{"--key", keys.key}, legacy...), keys.policy(env), keys.vars, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			// 1. push and sign by digest.
			ref := pushAlpineLike(t, env, "e2e/seed")
			signet.ok(t, mode.vars, append(append([]string{"sign"}, mode.sign...), ref)...)
			// 2. SBOMs by syft, a vulnerability report, as attestations.
			cdx, spdx := syftSBOMs(t, env, syft, ref)
			for _, a := range []struct{ typ, file string }{{"cyclonedx", cdx}, {"spdxjson", spdx}, {"vuln", vulnReport(t)}} {
				signet.ok(t, mode.vars, append(append([]string{"attest", "--type", a.typ, "--predicate", a.file}, mode.sign...), ref)...)
			}
			if mode.legacyStorage && !hasTag(t, env, repoOf(t, ref), tagPrefix(t, ref)+".att") {
				t.Fatalf("no legacy .att image for %s", ref)
			}
			// The SBOM names the image: the subject is its digest.
			subject := filepath.Join(t.TempDir(), "subject.cue")
			if err := os.WriteFile(subject, []byte("subject: [{digest: sha256: \""+strings.TrimPrefix(digestOf(t, ref), "sha256:")+"\"}]\n"), 0o644); err != nil {
				t.Fatal(err)
			}

			// 3. the same policies pass with signet and with cosign v3 ...
			verify := func(tl imageTool, typ string, policies ...string) run {
				args := append([]string{"verify-attestation", "--type", typ}, mode.verify...)
				for _, p := range policies {
					args = append(args, "--policy", p)
				}
				return tl.run(t, nil, append(args, ref)...)
			}
			for _, tl := range []imageTool{signet, cosign} {
				for _, c := range []struct {
					typ      string
					policies []string
				}{
					{"cyclonedx", []string{policyFile("sbom-syft.cue"), subject}},
					{"spdxjson", []string{policyFile("spdx.rego")}},
					// cosign reads signet's vuln predicate with the report
					// intact (scanner.result); its own attest would sign an
					// empty shell that this policy passes vacuously.
					{"vuln", []string{policyFile("vuln.rego")}},
				} {
					r := verify(tl, c.typ, c.policies...)
					if r.code != 0 {
						t.Errorf("%s verify-attestation --type %s %v: exit %d\n%s", tl.name, c.typ, c.policies, r.code, r.stderr)
						continue
					}
					wantDigest(t, r.stdout, ref)
					if !strings.Contains(r.stderr, "will be validating against") {
						t.Errorf("%s --type %s: no 'will be validating' line:\n%s", tl.name, c.typ, r.stderr)
					}
				}
				// ... and the ones that must fail, fail: a forbidden
				// package, a critical CVE. cosign and signet print the
				// same cosign lines and exit 1; signet's detail names the
				// package and the CVE.
				for _, c := range []struct{ typ, policy, cosignLine, signetDetail string }{
					{"cyclonedx", "sbom-forbidden.cue", `invalid value "openssl" (out of bound !="openssl")`, `name: invalid value "openssl"`},
					{"vuln", "vuln-strict.rego", "- expression value, false, is not true", "deny: critical CVE-2023-5363 in pkg:apk/alpine/openssl@3.1.0-r0"},
				} {
					r := verify(tl, c.typ, policyFile(c.policy))
					if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "There are 1 number of errors occurred during the validation:") ||
						!strings.Contains(r.stderr, c.cosignLine) || !strings.Contains(r.stderr, "1 validation errors occurred") {
						t.Errorf("%s --policy %s: exit %d, stdout %q, want cosign's failure lines\n%s", tl.name, c.policy, r.code, r.stdout, r.stderr)
					}
					if tl.name == "signet" && !strings.Contains(r.stderr, c.signetDetail) {
						t.Errorf("signet --policy %s: detail does not name %q:\n%s", c.policy, c.signetDetail, r.stderr)
					}
				}
			}
		})
	}
}
