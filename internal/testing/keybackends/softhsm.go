package keybackends

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// SoftHSMModule is where Debian's softhsm2 puts its PKCS#11 module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// Token is a SoftHSM2 token of its own (own SOFTHSM2_CONF and token
// directory), initialised with an ECDSA P-256 key pair.
type Token struct {
	Conf   string // SOFTHSM2_CONF
	Module string
	Label  string
	PIN    string // user PIN: a secret, never to appear in signet's output
	SOPIN  string
	Key    string // the key pair's label (CKA_LABEL), id 01
}

// NewToken initialises a fresh token and makes an EC P-256 key pair in it
// with opensc's pkcs11-tool. softhsm2 and opensc come from Debian
// (installed by hack/local-stack install).
func NewToken(t testing.TB, label string) *Token {
	t.Helper()
	for _, p := range []string{"softhsm2-util", "pkcs11-tool"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s not found: run hack/local-stack install (it installs softhsm2 and opensc from Debian)", p)
		}
	}
	if _, err := os.Stat(SoftHSMModule); err != nil {
		t.Fatalf("SoftHSM2 module: %v: run hack/local-stack install", err)
	}
	dir := t.TempDir()
	tok := &Token{Conf: filepath.Join(dir, "softhsm2.conf"), Module: SoftHSMModule, Label: label,
		PIN: "73190246", SOPIN: "55829130", Key: "signet-ec"}
	if err := os.MkdirAll(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", filepath.Join(dir, "tokens"))
	if err := os.WriteFile(tok.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	tok.run(t, "softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", tok.SOPIN, "--pin", tok.PIN)
	tok.run(t, "pkcs11-tool", "--module", tok.Module, "--token-label", label, "--login", "--pin", tok.PIN,
		"--keypairgen", "--key-type", "EC:prime256v1", "--label", tok.Key, "--id", "01")
	return tok
}

func (tok *Token) run(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), tok.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Env selects this token's SoftHSM2 configuration.
func (tok *Token) Env() []string { return []string{"SOFTHSM2_CONF=" + tok.Conf} }

// URI is a pkcs11: key URI for the key pair, with the module path and,
// when withPIN, the PIN.
func (tok *Token) URI(withPIN bool) string {
	u := "pkcs11:token=" + tok.Label + ";object=" + tok.Key + "?module-path=" + tok.Module
	if withPIN {
		u += "&pin-value=" + tok.PIN
	}
	return u
}

// CosignPKCS11 is the cached cosign built with CGO_ENABLED=1 -tags
// pkcs11key (hack/local-stack install), the reference for PKCS#11.
func CosignPKCS11(t testing.TB) string {
	t.Helper()
	return cachedBinary(t, "cosign-pkcs11key@"+localstack.CosignVersion, "cosign")
}
