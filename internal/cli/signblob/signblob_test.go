package signblob_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/signblob"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/testing/regtest"
)

func TestArgvToOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *signblob.Options
	cmd := signblob.NewCmdSignBlob(cli.NewFactory(ios), func(_ context.Context, o *signblob.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--yes", "--bundle", "b.json", "--signing-config", "sc.json", "--identity-token", "tok",
		"--output-signature", "s", "--b64=false", "--new-bundle-format=false", "--tlog-upload=false", "a", "b"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.Signer.Signing.Yes || got.Bundle != "b.json" || got.Signer.Signing.SigningConfig != "sc.json" ||
		got.Signer.OIDC.IdentityToken != "tok" || got.OutputSignature != "s" || got.B64 || got.NewBundleFormat ||
		got.Signer.Signing.TlogUpload || len(got.Files) != 2 {
		t.Fatalf("options: %+v", got)
	}
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err == nil {
		t.Fatal("no file accepted")
	}
}

// TestRefusedBeforeAnyRequest: contradictions and impossible outputs fail
// before a key is made or a service asked (the network refuses everything
// here, and no file appears).
func TestRefusedBeforeAnyRequest(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sc := filepath.Join(dir, "sc.json")
	os.WriteFile(sc, []byte(`{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json"}`), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bundle", "x.json", a, b}, "--bundle names one file"},
		{[]string{"--output-signature", "s", a, b}, "--output-signature names one file"},
		{[]string{"--new-bundle-format=false", a, b}, "several files are written only as Sigstore bundles"},
		{[]string{"-", a}, "standard input (-) can only be signed alone"},
		{[]string{"--sk", a}, "no hardware security key support"},
		{[]string{"--certificate", "c.pem", a}, "--certificate needs --key"},
		{[]string{"--signing-config", sc, "--fulcio-url", "https://f.example", a}, "cannot specify service URLs and use signing config"},
		{[]string{"--use-signing-config", "--rekor-url", "https://r.example", a}, "cannot specify service URLs and use signing config"},
		{[]string{"--signing-config", "missing.json", a}, "--signing-config missing.json"},
		{[]string{"--signing-algorithm", "dsa-sha1", a}, "--signing-algorithm"},
		{[]string{"--signing-config", sc, "--rfc3161-timestamp", "ts.json", "--key", "k", a}, "--key k"},
	} {
		r := clitest.Run(t, clitest.Options{}, append([]string{"sign-blob", "--yes"}, tc.args...)...)
		r.CheckErrorLine(t)
		if !strings.Contains(r.ErrLine(), tc.want) {
			t.Errorf("%v: error %q does not contain %q", tc.args, r.ErrLine(), tc.want)
		}
		if r.NetworkCalls != 0 {
			t.Errorf("%v: %d network calls", tc.args, r.NetworkCalls)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("files appeared: %v", ents)
	}
}

// TestNoTokenNoTerminal: with no identity token anywhere and no terminal,
// signing tries the device flow against the OIDC issuer; with the network
// refusing, it fails with a message naming the issuer, and writes nothing.
func TestNoTokenNoTerminal(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	os.WriteFile(a, []byte("a"), 0o644)
	sc := filepath.Join(dir, "sc.json")
	os.WriteFile(sc, []byte(`{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
	 "caUrls":[{"url":"https://fulcio.example","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"}}],
	 "oidcUrls":[{"url":"https://oidc.example","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"}}]}`), 0o644)
	tr := filepath.Join(dir, "trusted_root.json")
	os.WriteFile(tr, fakesigstore.New(t).TrustedRootJSON(t), 0o644)
	r := clitest.Run(t, clitest.Options{}, "sign-blob", "--yes", "--signing-config", sc, "--trusted-root", tr, a)
	r.CheckErrorLine(t)
	if !strings.Contains(r.ErrLine(), "https://oidc.example") || !strings.Contains(r.ErrLine(), "device") {
		t.Errorf("the error does not say the device flow against the issuer failed: %s", r.ErrLine())
	}
	if _, err := os.Stat(a + ".sigstore.json"); err == nil {
		t.Error("bundle written")
	}
}

// unknownHost fails every request as a name that does not resolve does:
// at once and for good (httpx does not retry it), so the test is quick.
type unknownHost struct{ calls atomic.Int64 }

func (u *unknownHost) RoundTrip(req *http.Request) (*http.Response, error) {
	u.calls.Add(1)
	return nil, &net.DNSError{Err: "no such host", Name: req.URL.Hostname(), IsNotFound: true}
}

// TestManyFilesOneCause: 200 files and a Rekor that cannot be reached:
// the error says the cause once and names three files, instead of 200
// copies of the cause in one 30 KB line.
func TestManyFilesOneCause(t *testing.T) {
	dir := t.TempDir()
	key, _ := regtest.KeyPair(t, dir, "cosign")
	t.Chdir(dir)
	args := []string{"sign-blob", "--yes", "--key", key, "--use-signing-config=false", "--rekor-url", "http://rekor.test"}
	for i := 1; i <= 200; i++ {
		name := fmt.Sprintf("f%d.txt", i)
		if err := os.WriteFile(name, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, name)
	}
	rekor := &unknownHost{}
	r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": ""}, Transport: rekor}, args...)
	r.CheckErrorLine(t)
	want := "Error: 200 of 200 files failed: recording the signature in Rekor at http://rekor.test: "
	if line := r.ErrLine(); !strings.HasPrefix(line, want) || !strings.HasSuffix(line, "(f1.txt, f10.txt, f100.txt and 197 more)") ||
		strings.Count(line, "no such host") != 1 || len(line) > 400 {
		t.Errorf("error line (%d bytes):\n%s\nwant %s… (f1.txt, f10.txt, f100.txt and 197 more)", len(line), line, want)
	}
	if n := rekor.calls.Load(); n != 200 {
		t.Errorf("%d requests: Rekor was not asked once per file", n)
	}
	if m, _ := filepath.Glob("*.sigstore.json"); len(m) != 0 {
		t.Errorf("bundles written: %v", m)
	}
}

// TestTimeoutQueuedFiles: when the run's --timeout ends while files are
// still queued, they are reported as not started, not as whatever step
// met the deadline first.
func TestTimeoutQueuedFiles(t *testing.T) {
	dir := t.TempDir()
	key, _ := regtest.KeyPair(t, dir, "cosign")
	t.Chdir(dir)
	tr := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(tr, fakesigstore.New(t).TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--timeout", "3s", "sign-blob", "--yes", "--key", key, "--use-signing-config=false", "--rekor-url", "http://rekor.test", "--trusted-root", tr}
	for i := 1; i <= 40; i++ {
		name := fmt.Sprintf("f%d.txt", i)
		if err := os.WriteFile(name, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, name)
	}
	r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": ""}, Transport: frozen{}}, args...)
	r.CheckErrorLine(t)
	line := r.ErrLine()
	// Eight files are in Rekor when the deadline comes (unless loading
	// the key took all three seconds on a busy machine): two causes at most.
	if !strings.HasPrefix(line, "Error: 40 of 40 files failed: ") || !strings.Contains(line, "not started: context deadline exceeded (") ||
		strings.Count(line, "; ") > 1 || !strings.HasSuffix(line, "(the --timeout was reached)") {
		t.Errorf("error line:\n%s", line)
	}
	t.Log(line)
}

// frozen answers no request until the request's context ends.
type frozen struct{}

func (frozen) RoundTrip(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}
