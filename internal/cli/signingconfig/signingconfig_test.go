package signingconfig_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/clitest"
)

func svc(u, v string) string {
	return "url=" + u + ",api-version=" + v + ",start-time=2024-01-01T00:00:00Z,operator=example.com"
}

// TestCreateAndBase: a signing config made from specs loads in
// sigstore-go with every service and selector; used as --base-config, a
// kind given again replaces the base's, the others stay.
func TestCreateAndBase(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	r := clitest.Run(t, clitest.Options{}, "signing-config", "create", "--out", base,
		"--fulcio", svc("https://fulcio.example.com", "1"),
		"--oidc-provider", svc("https://issuer.example.com", "1"),
		"--rekor", svc("https://rekor.example.com", "1"), "--rekor", svc("https://log2.example.com", "2"), "--rekor-config", "EXACT:1",
		"--tsa", svc("https://tsa.example.com/api/v1/timestamp", "1"), "--tsa-config", "any")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	sc, err := root.NewSigningConfigFromPath(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.RekorLogURLs()) != 2 || sc.RekorLogURLsConfig().Selector != prototrustroot.ServiceSelector_EXACT || sc.RekorLogURLsConfig().Count != 1 {
		t.Errorf("rekor: %+v %+v", sc.RekorLogURLs(), sc.RekorLogURLsConfig())
	}
	if sc.TimestampAuthorityURLsConfig().Selector != prototrustroot.ServiceSelector_ANY || sc.OIDCProviderURLs()[0].URL != "https://issuer.example.com" {
		t.Errorf("tsa/oidc: %+v %+v", sc.TimestampAuthorityURLsConfig(), sc.OIDCProviderURLs())
	}

	r = clitest.Run(t, clitest.Options{}, "signing-config", "create", "--base-config", base, "--fulcio", svc("https://ca.private.example", "1"))
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	derived, err := root.NewSigningConfigFromJSON([]byte(r.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	if got := derived.FulcioCertificateAuthorityURLs(); len(got) != 1 || got[0].URL != "https://ca.private.example" {
		t.Errorf("fulcio not replaced: %+v", got)
	}
	if len(derived.RekorLogURLs()) != 2 || len(derived.TimestampAuthorityURLs()) != 1 {
		t.Errorf("base services lost: %+v", derived)
	}
}

func TestCreateErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sc.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rekor", svc("https://r", "1")}, "--rekor-config must be provided"},
		{[]string{"--tsa", svc("https://t", "1"), "--tsa-config", "EXACT"}, "EXACT needs a positive count"},
		{[]string{"--fulcio", "url=https://f,api-version=x,start-time=2024-01-01T00:00:00Z,operator=o"}, "api-version"},
		{[]string{"--fulcio", "url=https://f,api-version=1,start-time=yesterday,operator=o"}, "RFC 3339"},
		{[]string{"--oidc-provider", "url=https://i,api-version=1,start-time=2024-01-01T00:00:00Z"}, `"operator"`},
	} {
		r := clitest.Run(t, clitest.Options{}, append([]string{"signing-config", "create", "--out", out}, tc.args...)...)
		r.CheckOneErrorLine(t)
		if !strings.Contains(r.ErrLine(), tc.want) {
			t.Errorf("%v: %q lacks %q", tc.args, r.ErrLine(), tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: output written on failure", tc.args)
		}
	}
}
