package verifier_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/shared"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/verifier"

	"github.com/signetdev/signet/pkg/artifact"
)

// realBundle is a bundle that verifies as given: the tampering tests start
// from a success and change one byte.
type realBundle struct {
	name        string
	bundle      string
	trustedRoot string
	artifact    artifact.Artifact
	artifactRaw []byte // nil when only a digest is known
	policy      verifier.Policy
}

func realBundles(t *testing.T) []realBundle {
	var out []realBundle
	for _, c := range shared.Conformance(t) {
		if c.WantFail {
			continue
		}
		p := verifier.Policy{}
		if c.Key != "" {
			v, err := keys.LoadVerifier(c.Key, os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			p.Key = v
		} else {
			p.Identity = exactIdentity(c.Identity, c.Issuer)
		}
		raw, err := os.ReadFile(c.Artifact)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, realBundle{name: "conformance/" + c.Name, bundle: c.Bundle, trustedRoot: c.TrustedRoot, artifactRaw: raw, policy: p})
	}
	pg := func(n string) string { return shared.Path(t, "public-good", n) }
	prod := shared.Path(t, "trust", "production-trusted-root.json")
	gh := exactIdentity("https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main", "https://token.actions.githubusercontent.com")
	tgz := func(n string) []byte {
		b, err := os.ReadFile(pg(n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	npmKey, err := keys.LoadVerifier(pg("npm-registry-publish-key.pub"), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out,
		realBundle{name: "npm-2.0.0-provenance", bundle: pg("npm-sigstore-2.0.0.provenance.sigstore.json"), trustedRoot: prod, artifactRaw: tgz("sigstore-2.0.0.tgz"), policy: verifier.Policy{Identity: gh, PredicateType: "https://slsa.dev/provenance/v1"}},
		realBundle{name: "npm-1.3.0-provenance", bundle: pg("npm-sigstore-1.3.0.provenance.sigstore.json"), trustedRoot: prod, artifactRaw: tgz("sigstore-1.3.0.tgz"), policy: verifier.Policy{Identity: gh, PredicateType: "https://slsa.dev/provenance/v0.2"}},
		realBundle{name: "npm-1.3.0-publish", bundle: pg("npm-sigstore-1.3.0.publish.sigstore.json"), trustedRoot: prod, artifactRaw: tgz("sigstore-1.3.0.tgz"), policy: verifier.Policy{Key: npmKey}},
		realBundle{name: "othername", bundle: pg("othername.sigstore.json"), trustedRoot: pg("scaffolding-trusted-root.json"), artifact: digestArtifact(t, "sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b"), policy: verifier.Policy{Identity: exactIdentity("foo!oidc.local", "http://oidc.local:8080")}},
	)
	for i := range out {
		if out[i].artifactRaw != nil {
			raw := out[i].artifactRaw
			out[i].artifact = artifact.Artifact{Name: "artifact", Open: func() (ioReadCloser, error) { return nopCloser(raw), nil }}
		}
	}
	return out
}

func exactIdentity(san, issuer string) verifier.Identity {
	return verifier.Identity{SAN: verifier.Matcher{Exact: san}, Issuer: verifier.Matcher{Exact: issuer}}
}

func digestArtifact(t *testing.T, s string) artifact.Artifact {
	d, err := artifact.ParseDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return artifact.Artifact{Name: s, Digest: &d}
}

func (rb realBundle) verify(t *testing.T, bundleJSON []byte, art artifact.Artifact) error {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(rb.trustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := verifier.ParseBundle(bundleJSON, false)
	if err != nil {
		return err
	}
	_, err = verifier.Verify(context.Background(), b, art, rb.policy, tr)
	return err
}

// A tampering names a part of a bundle, how to change one byte of it, and
// words the error must contain so a user knows which check failed.
type tampering struct {
	part  string
	path  []string // JSON path to a base64 field (or checkpoint text)
	words []string // the error contains at least one
}

var tamperings = []tampering{
	{"message signature", []string{"messageSignature", "signature"}, []string{"signature"}},
	{"DSSE signature", []string{"dsseEnvelope", "signatures", "0", "sig"}, []string{"signature"}},
	{"DSSE payload", []string{"dsseEnvelope", "payload"}, []string{"signature", "transparency log", "statement", "subject"}},
	{"certificate (v0.3)", []string{"verificationMaterial", "certificate", "rawBytes"}, []string{"certificate"}},
	{"certificate (v0.1/0.2)", []string{"verificationMaterial", "x509CertificateChain", "certificates", "0", "rawBytes"}, []string{"certificate"}},
	{"Rekor body", []string{"verificationMaterial", "tlogEntries", "0", "canonicalizedBody"}, []string{"transparency log", "log entry"}},
	{"inclusion proof hash", []string{"verificationMaterial", "tlogEntries", "0", "inclusionProof", "hashes", "0"}, []string{"transparency log", "inclusion proof"}},
	{"inclusion proof root", []string{"verificationMaterial", "tlogEntries", "0", "inclusionProof", "rootHash"}, []string{"transparency log", "inclusion proof"}},
	{"checkpoint", []string{"verificationMaterial", "tlogEntries", "0", "inclusionProof", "checkpoint", "envelope"}, []string{"checkpoint"}},
	{"SET", []string{"verificationMaterial", "tlogEntries", "0", "inclusionPromise", "signedEntryTimestamp"}, []string{"signed entry timestamp (SET)"}},
	{"RFC 3161 timestamp", []string{"verificationMaterial", "timestampVerificationData", "rfc3161Timestamps", "0", "signedTimestamp"}, []string{"timestamp"}},
}

func TestTampering(t *testing.T) {
	for _, rb := range realBundles(t) {
		t.Run(rb.name, func(t *testing.T) {
			orig, err := os.ReadFile(rb.bundle)
			if err != nil {
				t.Fatal(err)
			}
			if err := rb.verify(t, orig, rb.artifact); err != nil {
				t.Fatalf("untouched bundle does not verify: %v", err)
			}
			tried := 0
			for _, tm := range tamperings {
				tampered, ok := flipAt(t, orig, tm.path)
				if !ok {
					continue // this bundle has no such part
				}
				tried++
				err := rb.verify(t, tampered, rb.artifact)
				checkRejected(t, tm.part, err, tm.words)
			}
			if rb.artifactRaw != nil {
				tried++
				changed := append([]byte{}, rb.artifactRaw...)
				changed[len(changed)/2] ^= 1
				art := artifact.Artifact{Name: "artifact", Open: func() (ioReadCloser, error) { return nopCloser(changed), nil }}
				checkRejected(t, "artifact", rb.verify(t, orig, art), []string{"artifact"})
			} else {
				tried++
				d := *rb.artifact.Digest
				d.Value = append([]byte{}, d.Value...)
				d.Value[0] ^= 1
				checkRejected(t, "artifact digest", rb.verify(t, orig, artifact.Artifact{Name: d.String(), Digest: &d}), []string{"artifact"})
			}
			if tried < 4 {
				t.Errorf("only %d parts tampered with", tried)
			}
		})
	}
}

func checkRejected(t *testing.T, part string, err error, words []string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: one flipped byte still verifies", part)
		return
	}
	msg := err.Error()
	t.Logf("%s: %s", part, msg)
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: error is not one line: %q", part, msg)
	}
	for _, w := range words {
		if strings.Contains(msg, w) {
			return
		}
	}
	t.Errorf("%s: error %q names none of %q", part, msg, words)
}

// flipAt changes one byte of the field at path: the middle byte of a
// base64 value, or, for the checkpoint note, one character of its
// signature line.
func flipAt(t *testing.T, data []byte, path []string) ([]byte, bool) {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	parent, key, ok := walk(doc, path)
	if !ok {
		return nil, false
	}
	s, ok := get(parent, key).(string)
	if !ok || s == "" {
		return nil, false
	}
	if path[len(path)-1] == "envelope" {
		// A checkpoint: flip a character of the log's own signature, the
		// first signature line (later ones may be witness cosignatures,
		// which are ignored while their keys are unknown).
		i := strings.Index(s, "\n— ")
		if i < 0 {
			t.Fatalf("checkpoint without a signature line: %q", s)
		}
		end := i + 1 + strings.Index(s[i+1:], "\n")
		b := []byte(s)
		j := end - 6
		if b[j] == 'A' {
			b[j] = 'B'
		} else {
			b[j] = 'A'
		}
		set(parent, key, string(b))
	} else {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("%v: not base64: %v", path, err)
		}
		raw[len(raw)/2] ^= 1
		set(parent, key, base64.StdEncoding.EncodeToString(raw))
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out, true
}

func walk(doc any, path []string) (parent any, key string, ok bool) {
	cur := doc
	for i, p := range path {
		if i == len(path)-1 {
			return cur, p, get(cur, p) != nil
		}
		cur = get(cur, p)
		if cur == nil {
			return nil, "", false
		}
	}
	return nil, "", false
}

func get(v any, key string) any {
	switch c := v.(type) {
	case map[string]any:
		return c[key]
	case []any:
		var i int
		if _, err := fmt.Sscan(key, &i); err != nil || i >= len(c) {
			return nil
		}
		return c[i]
	}
	return nil
}

func set(v any, key string, val any) {
	switch c := v.(type) {
	case map[string]any:
		c[key] = val
	case []any:
		var i int
		fmt.Sscan(key, &i)
		c[i] = val
	}
}
