package manifest_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/internal/testing/shared"
)

// TestManifestAndDockerfileVerify: the deprecated verbs verify every image
// they find through verify's own path and exit codes: all signed → 0 and
// one JSON line per image; one unsigned → 10, as verify would say.
func TestManifestAndDockerfileVerify(t *testing.T) {
	host := regtest.Registry(t, false)
	_, signed := regtest.PushRandom(t, host, "app")
	_, unsigned := regtest.PushRandom(t, host, "sidecar")
	dir := t.TempDir()
	key, pub := regtest.KeyPair(t, dir, "cosign")
	opts := clitest.Options{Transport: http.DefaultTransport, Env: clitest.Env{"COSIGN_PASSWORD": ""}}
	r := clitest.Run(t, opts, "sign", "--key", key, "--tlog-upload=false", "--use-signing-config=false", "-y",
		"--trusted-root", shared.Path(t, "trust", "production-trusted-root.json"), signed.String())
	if r.Code != 0 {
		t.Fatalf("sign: %s", r.Stderr)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: "+signed.String()+"\n")
	bad := write("bad.yaml", "kind: Pod\nspec:\n  containers:\n  - {name: app, image: "+signed.String()+"}\n  - {name: side, image: "+unsigned.String()+"}\n")
	df := write("Dockerfile", "FROM "+unsigned.String()+" AS build\nFROM "+signed.String()+"\n")
	verify := []string{"--key", pub, "--insecure-ignore-tlog"}

	for _, tc := range []struct {
		args []string
		code int
	}{
		{append([]string{"manifest", "verify", good}, verify...), 0},
		{append([]string{"manifest", "verify", bad}, verify...), 10},
		{append([]string{"dockerfile", "verify", "--base-image-only", df}, verify...), 0},
		{append([]string{"dockerfile", "verify", df}, verify...), 10},
	} {
		r := clitest.Run(t, opts, tc.args...)
		if r.Code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s", tc.args[:3], r.Code, tc.code, r.Stderr)
			continue
		}
		if !strings.Contains(r.Stderr, "is deprecated") {
			t.Errorf("%v: no deprecation notice: %s", tc.args[:3], r.Stderr)
		}
		if tc.code == 0 && !strings.Contains(r.Stdout, signed.DigestStr()) {
			t.Errorf("%v: stdout lacks the verified digest: %s", tc.args[:3], r.Stdout)
		}
	}
}
