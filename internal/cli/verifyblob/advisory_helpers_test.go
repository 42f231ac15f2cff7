package verifyblob_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
)

// The advisory tests (TestAdvisory_*) replay published Sigstore client
// advisories (../shared/docs/advisories.md, docs/SECURITY.md) against
// verify-blob and verify-blob-attestation: real signed material from an
// in-memory Sigstore, mutated as the advisory describes, verified with
// --trusted-root and through a TUF repository served on loopback.

const (
	advIdentity = "ci@example.com"
	advIssuer   = "https://issuer.example"
)

// trustMode is one way the CLI gets its trust material.
type trustMode = clitest.TrustMode

// trustModes serves trustedRoot as --trusted-root and through a TUF
// repository on loopback.
func trustModes(t *testing.T, trustedRoot []byte) []trustMode {
	return clitest.TrustModes(t, trustedRoot)
}

// advEnv is an in-memory Sigstore and the two ways to trust it.
type advEnv struct {
	fs    *fakesigstore.Sigstore
	dir   string
	modes []trustMode
}

func newAdvEnv(t *testing.T) *advEnv {
	t.Helper()
	fs := fakesigstore.New(t)
	return &advEnv{fs: fs, dir: t.TempDir(), modes: trustModes(t, fs.TrustedRootJSON(t))}
}

func (e *advEnv) file(t *testing.T, name string, data []byte) string {
	return write(t, e.dir, name, data)
}

// keyless are the identity flags the in-memory Sigstore's certificates
// satisfy (they carry no SCT).
var keyless = []string{"--certificate-identity", advIdentity, "--certificate-oidc-issuer", advIssuer, "--insecure-ignore-sct"}

// run runs verb with args in mode.
func run(t *testing.T, m trustMode, verb string, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, m.Opts, append(append([]string{verb}, m.Args...), args...)...)
}

// pass runs verb in every mode and requires success.
func (e *advEnv) pass(t *testing.T, verb string, args ...string) {
	t.Helper()
	for _, m := range e.modes {
		if r := run(t, m, verb, args...); r.Code != 0 {
			t.Errorf("%s (%s): exit %d, want 0: %s", verb, m.Name, r.Code, r.Stderr)
		}
	}
}

// fail runs verb in every mode and requires a failure with one error line
// containing want (any, when want is "").
func (e *advEnv) fail(t *testing.T, want, verb string, args ...string) {
	t.Helper()
	for _, m := range e.modes {
		r := run(t, m, verb, args...)
		if r.Code == 0 {
			t.Errorf("%s (%s) %v: accepted: %s", verb, m.Name, args, r.Stderr)
			continue
		}
		r.CheckErrorLine(t)
		if strings.Contains(r.Stdout+r.Stderr, "Verified OK") {
			t.Errorf("%s (%s): failed but printed Verified OK", verb, m.Name)
		}
		if !strings.Contains(r.ErrLine(), want) {
			t.Errorf("%s (%s): error %q does not say %q", verb, m.Name, r.ErrLine(), want)
		}
		t.Logf("%s (%s): %s", verb, m.Name, r.ErrLine())
	}
}

func bundleJSON(t *testing.T, b *bundle.Bundle) []byte { return fakesigstore.BundleJSON(t, b) }

// edit decodes a JSON document, lets f change it, and encodes it again.
func edit(t *testing.T, data []byte, f func(doc map[string]any)) []byte {
	return fakesigstore.EditJSON(t, data, f)
}

// field walks a decoded JSON document along keys (array indexes as "0").
func field(doc any, keys ...string) any {
	cur := doc
	for _, k := range keys {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			if k != "0" || len(c) == 0 {
				return nil
			}
			cur = c[0]
		default:
			return nil
		}
	}
	return cur
}

// statement is an in-toto statement about content's sha256 digest.
func statement(t *testing.T, predicateType string, digest string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": "blob", "digest": map[string]string{"sha256": digest}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{"x": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
