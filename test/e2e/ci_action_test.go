//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// testActionInstall runs the shell step of action.yml, as GitHub would
// (its run: line, with the env: it maps from the inputs), against a loopback
// HTTP server serving the release the pipeline made in dist. Version 1.0.0
// is that release and the bootstrap, pinned by its checksums.txt; 2.0.0 is
// the same release with a tampered archive and a checksums.txt recomputed
// to match, as a hostile mirror would serve it.
func testActionInstall(t *testing.T, dist, identity, issuer, trustedRoot string, extraEnv []string) {
	root := t.TempDir()
	good, bad := filepath.Join(root, "1.0.0"), filepath.Join(root, "2.0.0")
	names := []string{"checksums.txt", "checksums.txt.sigstore.json", "signet_linux_amd64.tar.gz", "signet_linux_amd64.tar.gz.sigstore.json"}
	for _, n := range names {
		copyFile(t, filepath.Join(dist, n), filepath.Join(good, n))
		copyFile(t, filepath.Join(dist, n), filepath.Join(bad, n))
	}
	archive := filepath.Join(bad, "signet_linux_amd64.tar.gz")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0x40
	if err := os.WriteFile(archive, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if err := os.WriteFile(filepath.Join(bad, "checksums.txt"), []byte(hex.EncodeToString(sum[:])+"  signet_linux_amd64.tar.gz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	defer srv.Close()

	action, err := os.ReadFile(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^      run: (.*)$`).FindSubmatch(action)
	if m == nil {
		t.Fatal("action.yml has no run: step")
	}
	run := string(m[1])

	install := func(t *testing.T, release, ident string) (dir, ghPath, log string, err error) {
		tmp := t.TempDir()
		dir, ghPath = filepath.Join(tmp, "signet-bin"), filepath.Join(tmp, "github_path")
		cmd := exec.Command("bash", "-e", "-c", run)
		cmd.Env = append(os.Environ(),
			"GITHUB_ACTION_PATH="+repoRoot(t), "GITHUB_PATH="+ghPath, "RUNNER_OS=Linux", "RUNNER_ARCH=X64",
			"SIGNET_RELEASE="+release, "INSTALL_DIR="+dir, "COSIGN_ALIAS=true", "BASE_URL="+srv.URL,
			"CERTIFICATE_IDENTITY="+ident, "CERTIFICATE_OIDC_ISSUER="+issuer, "TRUSTED_ROOT="+trustedRoot,
			"BOOTSTRAP_RELEASE=v1.0.0", "BOOTSTRAP_CHECKSUMS="+filepath.Join(dist, "checksums.txt"))
		cmd.Env = append(cmd.Env, extraEnv...)
		out, err := cmd.CombinedOutput()
		return dir, ghPath, string(out), err
	}

	t.Run("verified", func(t *testing.T) {
		dir, ghPath, log, err := install(t, "v1.0.0", identity)
		if err != nil {
			t.Fatalf("install: %v\n%s", err, log)
		}
		if p, _ := os.ReadFile(ghPath); strings.TrimSpace(string(p)) != dir {
			t.Errorf("GITHUB_PATH has %q, want %q", p, dir)
		}
		out, err := exec.Command(filepath.Join(dir, "cosign"), "version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "GitVersion") {
			t.Errorf("the cosign alias does not run signet: %v\n%s", err, out)
		}
	})
	refused := func(t *testing.T, release, ident, want string) {
		dir, ghPath, log, err := install(t, release, ident)
		if err == nil || !strings.Contains(log, want) {
			t.Fatalf("not refused with %q (%v):\n%s", want, err, log)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Error("a refused release was installed")
		}
		if _, err := os.Stat(ghPath); err == nil {
			t.Error("a refused release was put on PATH")
		}
	}
	t.Run("tampered", func(t *testing.T) { refused(t, "v2.0.0", identity, "is not signed by") })
	t.Run("other signer", func(t *testing.T) {
		refused(t, "v1.0.0", strings.Replace(identity, "acme/signet", "mallory/signet", 1), "is not signed by")
	})
}
