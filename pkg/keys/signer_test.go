package keys_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/keys/keystest"
)

func TestMain(m *testing.M) {
	keystest.ServeFakeKMSIfPlugin()
	os.Exit(m.Run())
}

const vectorPassword = "signet-test-vector"

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pass(p string) keys.PassFunc { return func(bool) ([]byte, error) { return []byte(p), nil } }

func noEnv(string) string { return "" }

// signsAndVerifies signs a message with sv and checks the signature with
// the public key in pubPEM, through the same verifier --key uses.
func signsAndVerifies(t *testing.T, sv signature.SignerVerifier, pubPEM []byte) {
	t.Helper()
	msg := []byte("signed by signet")
	sig, err := sv.SignMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	v, err := keys.Verifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Errorf("signature does not verify with the .pub: %v", err)
	}
}

func TestLoadSigner(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ key, password, pub string }{
		{"cosign-v3.1.3.key", vectorPassword, "cosign-v3.1.3.pub"},
		{"cosign-v3.1.3-nopass.key", "", "cosign-v3.1.3-nopass.pub"},
		{"cosign-import-rsa2048.key", vectorPassword, "cosign-import-rsa2048.pub"},
	} {
		t.Run(c.key, func(t *testing.T) {
			sv, err := keys.LoadSigner(ctx, filepath.Join("testdata", c.key), pass(c.password), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			signsAndVerifies(t, sv, testdata(t, c.pub))
		})
	}

	t.Run("env", func(t *testing.T) {
		env := map[string]string{"COSIGN_PRIVATE_KEY": string(testdata(t, "cosign-v3.1.3.key"))}
		sv, err := keys.LoadSigner(ctx, "env://COSIGN_PRIVATE_KEY", pass(vectorPassword), func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		signsAndVerifies(t, sv, testdata(t, "cosign-v3.1.3.pub"))
	})

	// Ed25519 keys sign with Ed25519ph, as in cosign.
	t.Run("ed25519", func(t *testing.T) {
		sv, err := keys.LoadSigner(ctx, "testdata/cosign-import-ed25519.key", pass(vectorPassword), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sv.(*signature.ED25519phSignerVerifier); !ok {
			t.Errorf("Ed25519 key loads as %T, want Ed25519ph", sv)
		}
	})
}

func TestLoadSignerErrors(t *testing.T) {
	ctx := context.Background()
	t.Setenv("PATH", t.TempDir()) // no KMS plugins
	asked := 0
	counting := func(bool) ([]byte, error) { asked++; return []byte("wrong"), nil }
	for _, c := range []struct{ ref, want string }{
		{"testdata/cosign-v3.1.3.key", "--key testdata/cosign-v3.1.3.key: decrypting: wrong password or corrupted key"},
		{"testdata/missing.key", "--key testdata/missing.key: open testdata/missing.key: no such file or directory"},
		{"testdata/cosign-v3.1.3.pub", `--key testdata/cosign-v3.1.3.pub: PEM block "PUBLIC KEY" is a public key`},
		{"env://NOPE", "--key env://NOPE: environment variable NOPE (from env://NOPE) is empty or unset"},
		{"", "--key : no key reference given"},
		{"awskms://alias/x", "--key awskms://alias/x: awskms:// keys need the sigstore-kms-awskms plugin, which `make build` and signet's release archives put beside signet: it is neither beside this executable nor on PATH (or build signet with -tags kms_aws; see docs/KEYS.md)"},
		{"gcpkms://projects/p", "nor on PATH (or build signet with -tags kms_gcp"},
		{"azurekms://v.vault.azure.net/k", "-tags kms_azure"},
		{"hashivault://k", "-tags kms_hashivault"},
		{"mykms://k", "--key mykms://k: mykms:// keys are not supported by this build: no KMS provider and no sigstore-kms-mykms plugin beside signet or on PATH"},
		{"k8s://ns/name", "--key k8s://ns/name: k8s:// keys (Kubernetes secrets) are not supported by this build"},
		{"gitlab://group/project", "gitlab:// keys (GitLab CI variables) are not supported"},
		{"github://owner/repo", "github:// keys (GitHub Actions secrets) are not supported"},
		{"pkcs11:token=t;object=o", "PKCS#11 keys are not supported by this build"},
		{"https://example.com/cosign.key", "https:// keys are not supported by this build"},
	} {
		if builtIn(c.ref) {
			continue // -tags kms_*: the provider is compiled in and would try its cloud
		}
		_, err := keys.LoadSigner(ctx, c.ref, counting, noEnv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %q", c.ref, err, c.want)
		}
	}
	if asked != 1 {
		t.Errorf("password asked %d times; only the real cosign key needs it", asked)
	}
	_, err := keys.LoadSigner(ctx, "testdata/cosign-v3.1.3.key", counting, noEnv)
	if !errors.Is(err, keys.ErrWrongPassword) {
		t.Errorf("wrong password is not ErrWrongPassword: %v", err)
	}
}

func builtIn(ref string) bool {
	scheme, _, _ := strings.Cut(ref, "://")
	for _, p := range keys.KMSProviders() {
		if p == scheme {
			return true
		}
	}
	return false
}

func TestIsKMSRef(t *testing.T) {
	for ref, want := range map[string]bool{
		"awskms:///alias/x": true, "hashivault://k": true, "mykms://k": true,
		"cosign.key": false, "env://X": false, "https://x/k.pub": false, "dir/a://b": false,
		"k8s://ns/n": false, "pkcs11:x": false, "://x": false,
	} {
		if got := keys.IsKMSRef(ref); got != want {
			t.Errorf("IsKMSRef(%q) = %v", ref, got)
		}
	}
}

// A KMS key through sigstore's plugin mechanism: created, used to sign,
// its public key fetched, and a signature checked with LoadVerifier. The
// plugin is the fake one in keystest, so the default build's path (no
// provider compiled in) is the one exercised.
func TestKMSPlugin(t *testing.T) {
	ctx := context.Background()
	ref := keystest.InstallFakeKMS(t, "fakekms")
	t.Logf("KMS providers compiled in: %v", keys.KMSProviders())

	pub, err := keys.CreateKMSKey(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := keys.MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := keys.LoadSigner(ctx, ref, func(bool) ([]byte, error) {
		t.Error("a KMS key asked for a password")
		return nil, nil
	}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := cryptoutils.EqualKeys(got, pub); err != nil {
		t.Error(err)
	}
	signsAndVerifies(t, sv, pubPEM)

	v, err := keys.LoadVerifier(ref, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("m")
	sig, _ := sv.SignMessage(bytes.NewReader(msg))
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Errorf("LoadVerifier(KMS): %v", err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader([]byte("other"))); err == nil {
		t.Error("LoadVerifier(KMS) accepted a signature over another message")
	}

	// A plugin that fails is an error, not the end of the process
	// (sigstore's PluginClient.DefaultAlgorithm would log.Fatal).
	broken := strings.Replace(ref, "key.pem", keystest.BrokenKey+".pem", 1)
	if _, err := keys.CreateKMSKey(ctx, broken); err == nil || !strings.Contains(err.Error(), "fakekms: fake kms: the key service is unavailable") {
		t.Errorf("broken plugin: %v", err)
	}
	if _, err := keys.LoadVerifier(broken, noEnv); err == nil || !strings.Contains(err.Error(), "fetching public key:") {
		t.Errorf("broken plugin: %v", err)
	}
	missing := strings.Replace(ref, "key.pem", "never-created.pem", 1)
	if _, err := keys.LoadVerifier(missing, noEnv); err == nil || !strings.Contains(err.Error(), "fake kms: no such key") {
		t.Errorf("missing key: %v", err)
	}
}

// TestKMSPluginBesideExecutable: with nothing on PATH, a plugin in the
// directory of the running executable is found (how `make build` and the
// release archives ship them), and a missing one is named in the error.
func TestKMSPluginBesideExecutable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(filepath.Dir(exe), "sigstore-kms-besidetest")
	if err := os.Symlink(exe, plugin); err != nil {
		t.Skipf("cannot write beside the test binary: %v", err)
	}
	t.Cleanup(func() { os.Remove(plugin) })
	t.Setenv("PATH", t.TempDir())
	ref := "besidetest://" + filepath.Join(t.TempDir(), "key.pem")
	ctx := context.Background()
	pub, err := keys.CreateKMSKey(ctx, ref)
	if err != nil {
		t.Fatalf("plugin beside the executable: %v", err)
	}
	v, err := keys.LoadVerifier(ref, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := v.PublicKey()
	if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(got) {
		t.Error("LoadVerifier gave another key than CreateKMSKey")
	}
	if _, err := keys.LoadVerifier("absenttest://k", noEnv); err == nil || !strings.Contains(err.Error(), "no sigstore-kms-absenttest plugin beside signet or on PATH") {
		t.Errorf("missing plugin: %v", err)
	}
}
