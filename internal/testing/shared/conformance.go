package shared

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Default identity and issuer of conformance cases (see the README).
const (
	ConformanceIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	ConformanceIssuer   = "https://token.actions.githubusercontent.com"
)

// ConformanceCase is one directory of conformance/, read as the README
// says: a bundle, an artifact, a trusted root, and a key or an identity.
type ConformanceCase struct {
	Name        string
	Dir         string
	Bundle      string
	Artifact    string
	TrustedRoot string
	Key         string // empty: verify with Identity and Issuer
	Identity    string
	Issuer      string
	WantFail    bool // the name ends in _fail
}

// ArtifactDigest is "sha256:<hex>" of the case's artifact.
func (c ConformanceCase) ArtifactDigest(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(c.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// VerifyArgs are the verify-blob arguments the README prescribes, with
// artifact as the last argument (a path or a digest).
func (c ConformanceCase) VerifyArgs(artifact string) []string {
	args := []string{"verify-blob", "--bundle", c.Bundle, "--trusted-root", c.TrustedRoot}
	if c.Key != "" {
		args = append(args, "--key", c.Key)
	} else {
		args = append(args, "--certificate-identity", c.Identity, "--certificate-oidc-issuer", c.Issuer)
	}
	return append(args, artifact)
}

// Conformance lists the conformance cases, or skips.
func Conformance(t testing.TB) []ConformanceCase {
	t.Helper()
	base := Path(t, "conformance")
	ents, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	var cases []ConformanceCase
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		c := ConformanceCase{
			Name:        e.Name(),
			Dir:         dir,
			Bundle:      filepath.Join(dir, "bundle.sigstore.json"),
			Artifact:    orDefault(filepath.Join(dir, "artifact"), filepath.Join(base, "a.txt")),
			TrustedRoot: orDefault(filepath.Join(dir, "trusted_root.json"), Path(t, "trust", "production-trusted-root.json")),
			Identity:    readOr(filepath.Join(dir, "identity"), ConformanceIdentity),
			Issuer:      readOr(filepath.Join(dir, "issuer"), ConformanceIssuer),
			WantFail:    strings.HasSuffix(e.Name(), "_fail"),
		}
		if exists(filepath.Join(dir, "key.pub")) {
			c.Key = filepath.Join(dir, "key.pub")
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatal("no conformance cases in " + base)
	}
	return cases
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func orDefault(p, def string) string {
	if exists(p) {
		return p
	}
	return def
}

func readOr(p, def string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return def
	}
	return strings.TrimSpace(string(b))
}
