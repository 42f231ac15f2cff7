package localstack

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTrustDocuments(t *testing.T) {
	dir := t.TempDir()
	p, err := generatePKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p.FulcioKeyPath, p.CTLogKeyPath, p.RekorV1Key, p.RekorV2Key, p.TSAKeyPath} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", f, fi.Mode().Perm())
		}
	}
	// The encrypted keys must not contain their password, and must say so.
	b, _ := os.ReadFile(p.FulcioKeyPath)
	if !strings.Contains(string(b), "DEK-Info") || strings.Contains(string(b), p.FulcioKeyPass) {
		t.Error("Fulcio key is not encrypted as expected")
	}
	// TSA leaf chains to its root with a critical timeStamping EKU.
	roots := x509.NewCertPool()
	roots.AddCert(p.TSACerts[1])
	if _, err := p.TSACerts[0].Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Errorf("TSA chain: %v", err)
	}

	trPath := filepath.Join(dir, "trusted_root.json")
	if err := writeTrustedRoot(trPath, p, Full); err != nil {
		t.Fatal(err)
	}
	var tr trustedRoot
	readJSON(t, trPath, &tr)
	if tr.MediaType != TrustedRootMediaType || len(tr.Tlogs) != 2 || len(tr.Ctlogs) != 1 || len(tr.CertificateAuthorities) != 1 || len(tr.TimestampAuthorities) != 1 {
		t.Fatalf("trusted root shape: %+v", tr)
	}
	id, _ := LogID(p.CTLogPub)
	if tr.Ctlogs[0].LogID.KeyID != base64.StdEncoding.EncodeToString(id) {
		t.Error("CT log ID mismatch")
	}
	if tr.Tlogs[0].PublicKey.KeyDetails != "PKIX_ED25519" || tr.Tlogs[0].BaseURL != "http://127.0.0.1:3003" {
		t.Errorf("rekor v2 entry: %+v", tr.Tlogs[0])
	}
	if err := writeTrustedRoot(trPath, p, Minimal); err != nil {
		t.Fatal(err)
	}
	tr = trustedRoot{}
	readJSON(t, trPath, &tr)
	if len(tr.Tlogs) != 1 || len(tr.Ctlogs) != 0 {
		t.Errorf("minimal trusted root lists %d tlogs, %d ctlogs", len(tr.Tlogs), len(tr.Ctlogs))
	}

	scPath := filepath.Join(dir, "sc.json")
	if err := WriteSigningConfig(scPath, SigningConfigSpec{FulcioURL: "http://f", OIDCURL: "http://o", RekorURL: "http://r", RekorVersion: 2}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	var sc map[string]any
	readJSON(t, scPath, &sc)
	if sc["mediaType"] != SigningConfigMediaType {
		t.Errorf("mediaType %v", sc["mediaType"])
	}
	rekor := sc["rekorTlogUrls"].([]any)[0].(map[string]any)
	if rekor["majorApiVersion"].(float64) != 2 || rekor["url"] != "http://r" {
		t.Errorf("rekor service %v", rekor)
	}
	if tsa := sc["tsaUrls"].([]any); len(tsa) != 0 {
		t.Errorf("tsaUrls %v, want empty", tsa)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestProcStartStop(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// A shell that starts a child in the same process group: stop must end both.
	p := &Proc{
		Name: "sleeper",
		Argv: []string{"/bin/sh", "-c", "sleep 60 & exec sleep 60"},
		Log:  filepath.Join(dir, "sleeper.log"),
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	if !p.alive() {
		t.Fatal("not alive after start")
	}
	pid := p.PID
	// A recorded PID whose start time differs is not ours: never signalled.
	impostor := &Proc{Name: "impostor", PID: pid, StartTime: p.StartTime + 1}
	if impostor.alive() {
		t.Error("impostor considered alive")
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if _, state, err := procStat(pid); err == nil && state != "Z" {
		t.Errorf("pid %d still running (state %s)", pid, state)
	}

	// A taken port is reported by number before anything starts.
	ln, err = net.Listen("tcp", hostPort(port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	q := &Proc{Name: "blocked", Argv: []string{"/bin/true"}, Log: filepath.Join(dir, "b.log"), Ports: []int{port}}
	err = q.start()
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("start on a taken port: %v", err)
	}

	// waitReady notices an early exit.
	r := &Proc{Name: "quitter", Argv: []string{"/bin/sh", "-c", "echo boom; exit 3"}, Log: filepath.Join(dir, "q.log"), Ready: Check{TCP: hostPort(port + 1)}}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = r.waitReady(ctx)
	if err == nil || !strings.Contains(err.Error(), "exited during startup") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("waitReady: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "''",
		"/tmp/x":                "/tmp/x",
		"http://127.0.0.1:8080": "http://127.0.0.1:8080",
		"a b":                   "'a b'",
		"it's":                  `'it'\''s'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestRekorV1SearchIndex: Rekor v1 keeps its search index in the stack's
// MariaDB (the trillian database), so lookups by artifact hash work
// without Redis.
func TestRekorV1SearchIndex(t *testing.T) {
	u := &upper{c: DefaultConfig(), bins: map[string]string{"rekor-server": "rekor-server"}, st: &State{Mode: Full, TreeIDs: map[string]int64{"rekor": 7}}, pki: &PKI{RekorV1Key: "rekor.key"}}
	argv := strings.Join(u.rekorV1().Argv, " ")
	for _, want := range []string{
		"--enable_retrieve_api=true",
		"--search_index.storage_provider=mysql",
		"--search_index.mysql.dsn=" + u.mysqlURI() + "?parseTime=true",
	} {
		if !strings.Contains(argv, want) {
			t.Errorf("rekor-server argv lacks %s:\n%s", want, argv)
		}
	}
	if strings.Contains(argv, "redis") || strings.Contains(argv, "--enable_retrieve_api=false") {
		t.Errorf("rekor-server argv still disables the index or names Redis:\n%s", argv)
	}
}

// The release pipeline's sbom.sh installs the same cyclonedx-gomod the
// e2e tests take from the cache.
func TestSBOMToolPinAgrees(t *testing.T) {
	b, err := os.ReadFile("../../../../hack/release/sbom.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nversion="+CycloneDXGomodVersion+" ") {
		t.Errorf("hack/release/sbom.sh does not pin cyclonedx-gomod %s", CycloneDXGomodVersion)
	}
}

// TestVaultPinMatchesWrapper: the cache key (vault@VaultVersion) must name
// the version the wrapper module builds, or a changed pin would reuse a
// stale binary. The same holds for local-kms's wrapper.
func TestVaultPinMatchesWrapper(t *testing.T) {
	for _, w := range []struct{ dir, module, version string }{
		{"vaultbuild", "github.com/hashicorp/vault", VaultVersion},
		{"localkmsbuild", "github.com/nsmithuk/local-kms", LocalKMSVersion},
	} {
		b, err := os.ReadFile(filepath.Join("..", w.dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(`(?m)^(require )?\s*` + regexp.QuoteMeta(w.module) + ` ` + regexp.QuoteMeta(w.version) + `$`)
		if !re.Match(b) {
			t.Errorf("%s/go.mod does not require %s %s", w.dir, w.module, w.version)
		}
		if _, err := os.Stat(filepath.Join("..", w.dir, "go.sum")); err != nil {
			t.Errorf("the wrapper's go.sum is its pin and must be committed: %v", err)
		}
	}
}

// TestWrapperComponent builds a program from a nested wrapper module into
// the cache, and a second install finds it complete.
func TestWrapperComponent(t *testing.T) {
	src := t.TempDir()
	w := filepath.Join(src, "wrap")
	if err := os.MkdirAll(w, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"go.mod":  "module wraptest\n\ngo 1.26\n",
		"go.sum":  "",
		"main.go": "package main\n\nfunc main() { println(\"wrapped\") }\n",
	} {
		if err := os.WriteFile(filepath.Join(w, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := Config{CacheDir: t.TempDir(), SourceDir: src}
	if err := os.MkdirAll(c.binDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	comp := Component{Key: "wraptest@v1", Packages: []string{"."}, Binaries: []string{"wrapped"}, Wrapper: "wrap"}
	ctx := context.Background()
	did, err := comp.install(ctx, c)
	if err != nil || !did {
		t.Fatalf("first install: built=%v err=%v", did, err)
	}
	if !comp.complete(comp.dir(c)) {
		t.Fatal("component not complete after install")
	}
	if did, err := comp.install(ctx, c); err != nil || did {
		t.Fatalf("second install: built=%v err=%v, want a cache hit", did, err)
	}
	// A wrapper without go.sum is an error naming the component, not a
	// build that silently resolves versions.
	bad := comp
	bad.Key, bad.Wrapper = "nosum@v1", "missing"
	if _, err := bad.install(ctx, c); err == nil || !strings.Contains(err.Error(), "nosum@v1") {
		t.Fatalf("missing wrapper: err=%v", err)
	}
}
