package flags_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/shared"
	"github.com/signetdev/signet/pkg/oci"
)

func registryFactory(env map[string]string) *cli.Factory {
	ios, _, _, _ := iostreams.Test()
	f := cli.NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	f.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f.Transport = http.DefaultTransport.(*http.Transport).Clone()
	return f
}

func parseRegistry(t *testing.T, args ...string) *flags.Registry {
	t.Helper()
	var o flags.Registry
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	o.AddFlags(fs)
	o.AddReferrersModeFlag(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return &o
}

// TestRegistryFlagsMatchCosign: names, types, defaults and hidden marks
// are cosign v3's on the verbs that have them.
func TestRegistryFlagsMatchCosign(t *testing.T) {
	path := shared.Path(t, "..", "docs", "cosign-v3-flags.txt")
	fh, err := os.Open(path)
	if err != nil {
		t.Skipf("cosign flag list: %v", err)
	}
	defer fh.Close()
	line := regexp.MustCompile(`^  --([a-z0-9-]+) \(([^)]*)\) default="([^"]*)"(.*) :: (.*)$`)
	ours := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var o flags.Registry
	o.AddFlags(ours)
	o.AddReferrersModeFlag(ours)
	seen := map[string]bool{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil || !(strings.HasPrefix(m[1], "registry-") || m[1] == "allow-http-registry" || m[1] == "allow-insecure-registry" || m[1] == "k8s-keychain") {
			continue
		}
		fl := ours.Lookup(m[1])
		if fl == nil {
			t.Errorf("missing --%s", m[1])
			continue
		}
		seen[m[1]] = true
		if fl.Value.Type() != m[2] || fl.DefValue != m[3] || fl.Usage != m[5] {
			t.Errorf("--%s: %s default %q %q; cosign: %s default %q %q", m[1], fl.Value.Type(), fl.DefValue, fl.Usage, m[2], m[3], m[5])
		}
		if strings.Contains(m[4], "[DEPRECATED") != (fl.Deprecated != "") {
			t.Errorf("--%s: deprecated mark differs from cosign", m[1])
		}
	}
	if len(seen) != 11 {
		t.Errorf("checked %d registry flags, want 11: %v", len(seen), seen)
	}
}

func TestRegistryOptions(t *testing.T) {
	f := registryFactory(map[string]string{
		"COSIGN_REPOSITORY":          "example.com/sigs",
		"COSIGN_DOCKER_MEDIA_TYPES":  "1",
		"COSIGN_MAX_ATTACHMENT_SIZE": "1MiB",
	})
	o := parseRegistry(t, "--allow-http-registry", "--registry-username", "u", "--registry-password", "p", "--registry-referrers-mode", "legacy")
	opts, err := o.Options(f)
	if err != nil {
		t.Fatal(err)
	}
	if !opts.AllowHTTP || opts.Repository != "example.com/sigs" || !opts.DockerMediaTypes || opts.MaxAttachmentSize != 1<<20 {
		t.Errorf("options: %+v", opts)
	}
	b, ok := opts.Auth.(*authn.Basic)
	if !ok || b.Username != "u" || b.Password != "p" {
		t.Errorf("auth %#v, want basic u/p", opts.Auth)
	}
	if o.ReferrersMode != "legacy" {
		t.Errorf("referrers mode %q", o.ReferrersMode)
	}

	o = parseRegistry(t, "--registry-token", "tok")
	f = registryFactory(nil)
	opts, err = o.Options(f)
	if err != nil {
		t.Fatal(err)
	}
	if bt, ok := opts.Auth.(*authn.Bearer); !ok || bt.Token != "tok" {
		t.Errorf("auth %#v, want bearer", opts.Auth)
	}
	if opts.Keychain != nil || opts.MaxAttachmentSize != oci.DefaultMaxAttachmentSize || opts.Repository != "" || opts.DockerMediaTypes {
		t.Errorf("defaults: %+v", opts)
	}
}

func TestRegistryOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--k8s-keychain"}, nil, "--k8s-keychain is not supported"},
		{[]string{"--registry-username", "u"}, nil, "--registry-username and --registry-password go together"},
		{[]string{"--registry-password", "secretpw"}, nil, "--registry-username and --registry-password go together"},
		{[]string{"--registry-token", "secrettok", "--registry-username", "u", "--registry-password", "secretpw"}, nil, "--registry-token conflicts"},
		{[]string{"--registry-cacert", "/nonexistent/ca.pem"}, nil, "--registry-cacert /nonexistent/ca.pem"},
		{[]string{"--registry-client-cert", "/x.pem"}, nil, "--registry-client-cert and --registry-client-key go together"},
		{[]string{"--registry-referrers-mode", "oci-1-1"}, nil, "COSIGN_EXPERIMENTAL=1"},
		{nil, map[string]string{"COSIGN_REPOSITORY": "registry.example.com:5000"}, "looks like a registry"},
		{nil, map[string]string{"COSIGN_REPOSITORY": "UPPER/case"}, "COSIGN_REPOSITORY"},
	} {
		f := registryFactory(tc.env)
		_, err := parseRegistry(t, tc.args...).Options(f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: error %v, want %q", tc.args, tc.env, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") || strings.Contains(err.Error(), "secrettok") {
			t.Errorf("%v: error leaks a secret: %v", tc.args, err)
		}
	}
	f := registryFactory(map[string]string{"COSIGN_EXPERIMENTAL": "1"})
	if _, err := parseRegistry(t, "--registry-referrers-mode", "oci-1-1").Options(f); err != nil {
		t.Errorf("oci-1-1 with COSIGN_EXPERIMENTAL=1: %v", err)
	}
	var o flags.Registry
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	o.AddReferrersModeFlag(fs)
	if err := fs.Parse([]string{"--registry-referrers-mode", "oci11"}); err == nil || !strings.Contains(err.Error(), "legacy or oci-1-1") {
		t.Errorf("bad mode: %v", err)
	}
}

func TestRegistryMaxAttachmentSizeInvalidWarns(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	f := cli.NewFactory(ios)
	f.Getenv = func(string) string { return "" }
	f.LookupEnv = func(k string) (string, bool) { return "lots", k == "COSIGN_MAX_ATTACHMENT_SIZE" }
	opts, err := parseRegistry(t).Options(f)
	if err != nil {
		t.Fatal(err)
	}
	if opts.MaxAttachmentSize != oci.DefaultMaxAttachmentSize || !strings.Contains(errOut.String(), "COSIGN_MAX_ATTACHMENT_SIZE") {
		t.Errorf("size %d, stderr %q", opts.MaxAttachmentSize, errOut.String())
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"134217728": 134217728, "128MiB": 128 << 20, "128mib": 128 << 20, "100MB": 100e6, "1 KiB": 1024,
		"1k": 1000, "1.5 KB": 1500, "42": 42, "42 B": 42, "2Gi": 2 << 30, "1,000": 1000,
	} {
		got, err := flags.ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "12 parsecs", "1e400", "99999999EiB"} {
		if _, err := flags.ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) accepted", in)
		}
	}
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"128MiB", "1.5 kb", "", "9e9", "1,2,3 GiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := flags.ParseByteSize(s); err == nil && n < 0 {
			t.Errorf("%q: negative %d", s, n)
		}
	})
}

// TestRegistryTLS: a private CA and a client certificate reach the
// transport; insecure turns verification off.
func TestRegistryTLS(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reg"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)

	f := registryFactory(nil)
	opts, err := parseRegistry(t, "--registry-cacert", certPath, "--registry-client-cert", certPath, "--registry-client-key", keyPath, "--registry-server-name", "reg.internal").Options(f)
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := opts.Transport.(*http.Transport)
	if !ok || tr == f.Transport {
		t.Fatalf("transport %T not a fresh *http.Transport", opts.Transport)
	}
	c := tr.TLSClientConfig
	if c == nil || c.ServerName != "reg.internal" || len(c.Certificates) != 1 || c.RootCAs == nil || c.InsecureSkipVerify {
		t.Errorf("tls config %+v", c)
	}
	opts, err = parseRegistry(t, "--allow-insecure-registry").Options(f)
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := opts.Transport.(*http.Transport); !ok || !tr.TLSClientConfig.InsecureSkipVerify || !opts.AllowHTTP {
		t.Errorf("--allow-insecure-registry: %+v", opts)
	}
	os.WriteFile(certPath, []byte("not pem"), 0o600)
	if _, err := parseRegistry(t, "--registry-cacert", certPath).Options(f); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA: %v", err)
	}
	// Without TLS flags the factory's transport is used untouched.
	opts, _ = parseRegistry(t).Options(f)
	if opts.Transport != f.Transport {
		t.Errorf("transport replaced without TLS flags")
	}
}
