package tree_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

// pushImage starts a registry (with or without the referrers API) and
// pushes a random image; it returns the tag reference and digest.
func pushImage(t *testing.T, referrers bool) (tag, digest string) {
	t.Helper()
	tg, d := regtest.PushRandom(t, regtest.Registry(t, referrers), "acme/app")
	return tg.String(), d.DigestStr()
}

// TestAttachDownloadTree: the classic SBOM flow through the CLI, on
// registries with and without the referrers API.
func TestAttachDownloadTree(t *testing.T) {
	for _, referrers := range []bool{false, true} {
		tag, digest := pushImage(t, referrers)
		opts := clitest.Options{Transport: http.DefaultTransport}
		hex := strings.TrimPrefix(digest, "sha256:")
		repo := strings.TrimSuffix(tag, ":v1")

		r := clitest.Run(t, opts, "triangulate", "--type", "sbom", tag)
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != repo+":sha256-"+hex+".sbom" {
			t.Fatalf("triangulate: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
		}

		r = clitest.Run(t, opts, "tree", tag)
		if r.Code != 0 || !strings.Contains(r.Stdout, "No Supply Chain Security Related Artifacts found") {
			t.Fatalf("tree before: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
		}

		r = clitest.Run(t, opts, "download", "sbom", tag)
		if r.Code == 0 || !strings.Contains(r.ErrLine(), "no sbom attached") {
			t.Fatalf("download before attach: exit %d stderr %q", r.Code, r.Stderr)
		}

		sbom := `{"spdxVersion":"SPDX-2.3","name":"x"}` + "\n"
		path := filepath.Join(t.TempDir(), "sbom.spdx.json")
		if err := os.WriteFile(path, []byte(sbom), 0o600); err != nil {
			t.Fatal(err)
		}
		r = clitest.Run(t, opts, "attach", "sbom", "--sbom", path, tag)
		if r.Code != 0 || !strings.Contains(r.Stderr, "with mediaType [text/spdx+json]") {
			t.Fatalf("attach sbom: exit %d stderr %q", r.Code, r.Stderr)
		}
		// Attaching again replaces, not appends.
		if r = clitest.Run(t, opts, "attach", "sbom", "--sbom", path, tag); r.Code != 0 {
			t.Fatalf("attach sbom again: exit %d stderr %q", r.Code, r.Stderr)
		}

		r = clitest.Run(t, opts, "download", "sbom", tag)
		if r.Code != 0 || r.Stdout != sbom || !strings.Contains(r.Stderr, "Found SBOM of media type: text/spdx+json") {
			t.Fatalf("download sbom: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
		}

		r = clitest.Run(t, opts, "tree", tag)
		if r.Code != 0 || !strings.Contains(r.Stdout, "└── 📦 SBOMs for an image tag: "+repo+":sha256-"+hex+".sbom\n   └── 🍒 sha256:") || strings.Count(r.Stdout, "🍒") != 1 {
			t.Fatalf("tree after: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
		}

		r = clitest.Run(t, opts, "clean", "-f", "--type", "sbom", tag)
		if r.Code != 0 || !strings.Contains(r.Stderr, "Removed "+repo+":sha256-"+hex+".sbom") {
			t.Fatalf("clean: exit %d stderr %q", r.Code, r.Stderr)
		}
		if r = clitest.Run(t, opts, "download", "sbom", tag); r.Code == 0 {
			t.Fatalf("download after clean succeeded: %q", r.Stdout)
		}
	}
}

func TestMissingImage(t *testing.T) {
	tag, _ := pushImage(t, false)
	missing := strings.Replace(tag, "/acme/app", "/acme/nope", 1)
	opts := clitest.Options{Transport: http.DefaultTransport}
	for _, args := range [][]string{{"tree", missing}, {"triangulate", missing}, {"download", "signature", missing}, {"clean", "-f", missing}} {
		r := clitest.Run(t, opts, args...)
		if r.Code != 1 || !strings.Contains(r.ErrLine(), "acme/nope") {
			t.Errorf("%v: exit %d, error line %q", args, r.Code, r.ErrLine())
		}
	}
}
