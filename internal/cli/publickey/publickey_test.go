package publickey_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/publickey"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/keys/keystest"
)

func TestMain(m *testing.M) {
	keystest.ServeFakeKMSIfPlugin()
	os.Exit(m.Run())
}

// vectors holds keys made by cosign v3.1.3 (pkg/keys/testdata/README.md).
const (
	vectors        = "../../../pkg/keys/testdata/"
	vectorPassword = "signet-test-vector"
)

func readVector(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(vectors + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestArgvToOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want publickey.Options
	}{
		{"key", []string{"--key", "cosign.key"}, nil, publickey.Options{Key: "cosign.key"}},
		{"outfile", []string{"--key", "k", "--outfile", "o.pub"}, nil, publickey.Options{Key: "k", OutFile: "o.pub"}},
		{"sk", []string{"--sk", "--slot", "signature"}, nil, publickey.Options{SK: true, Slot: "signature"}},
		{"single dash", []string{"-key", "k"}, nil, publickey.Options{Key: "k"}},
		{"environment", nil, map[string]string{"COSIGN_KEY": "env.key", "COSIGN_OUTFILE": "o"}, publickey.Options{Key: "env.key", OutFile: "o"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := cli.NewFactory(ios)
			f.Getenv = func(k string) string { return c.env[k] }
			var got *publickey.Options
			code := cli.MainWithFactory(context.Background(), append([]string{"public-key"}, c.args...), f,
				func(f *cli.Factory) *cobra.Command {
					return publickey.NewCmdPublicKey(f, func(_ context.Context, o *publickey.Options) error { got = o; return nil })
				})
			if code != 0 || got == nil {
				t.Fatalf("exit %d", code)
			}
			if got.Key != c.want.Key || got.OutFile != c.want.OutFile || got.SK != c.want.SK || got.Slot != c.want.Slot {
				t.Errorf("got %+v, want %+v", *got, c.want)
			}
			if got.Pass == nil || got.Getenv == nil || got.Debugf == nil {
				t.Error("options not wired to the factory")
			}
		})
	}
}

// The public key of a cosign-made key, from a file and from env://, is
// cosign's own cosign.pub, byte for byte.
func TestPublicKey(t *testing.T) {
	want := readVector(t, "cosign-v3.1.3.pub")
	env := clitest.Env{"COSIGN_PASSWORD": vectorPassword, "COSIGN_PRIVATE_KEY": readVector(t, "cosign-v3.1.3.key")}
	for _, ref := range []string{vectors + "cosign-v3.1.3.key", "env://COSIGN_PRIVATE_KEY"} {
		r := clitest.Run(t, clitest.Options{Env: env}, "public-key", "--key", ref)
		if r.Code != 0 || r.Stdout != want || r.Stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", ref, r.Code, r.Stdout, r.Stderr)
		}
	}
	// RSA and Ed25519 keys imported by cosign; an empty password.
	for key, pub := range map[string]string{
		"cosign-import-rsa2048.key": "cosign-import-rsa2048.pub",
		"cosign-import-ed25519.key": "cosign-import-ed25519.pub",
	} {
		r := clitest.Run(t, clitest.Options{Env: env}, "public-key", "--key", vectors+key)
		if r.Code != 0 || r.Stdout != readVector(t, pub) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", key, r.Code, r.Stdout, r.Stderr)
		}
	}
	r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": ""}}, "public-key", "--key", vectors+"cosign-v3.1.3-nopass.key")
	if r.Code != 0 || r.Stdout != readVector(t, "cosign-v3.1.3-nopass.pub") {
		t.Errorf("empty password: exit %d, stderr %q", r.Code, r.Stderr)
	}
	// A piped password, as cosign reads it.
	r = clitest.Run(t, clitest.Options{Stdin: vectorPassword}, "public-key", "--key", vectors+"cosign-v3.1.3.key")
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("piped password: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestPublicKeyOutfile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.pub")
	r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": vectorPassword}},
		"public-key", "--key", vectors+"cosign-v3.1.3.key", "--outfile", out)
	if r.Code != 0 || r.Stdout != "" || r.Stderr != "Public key written to "+out+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || string(b) != readVector(t, "cosign-v3.1.3.pub") {
		t.Errorf("outfile %q, %v", b, err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("outfile mode %v, want cosign's 0600", fi.Mode().Perm())
	}
	// A failure leaves no (empty) outfile behind, unlike cosign.
	bad := filepath.Join(t.TempDir(), "bad.pub")
	r = clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": "wrong"}},
		"public-key", "--key", vectors+"cosign-v3.1.3.key", "--outfile", bad)
	if _, err := os.Stat(bad); r.Code == 0 || err == nil {
		t.Errorf("exit %d; outfile exists: %v", r.Code, err == nil)
	}
}

func TestPublicKeyFailures(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no KMS plugins
	key := vectors + "cosign-v3.1.3.key"
	for _, c := range []struct {
		name string
		env  clitest.Env
		args []string
		want string
	}{
		{"wrong password", clitest.Env{"COSIGN_PASSWORD": "wrong"}, []string{"--key", key},
			"Error: --key " + key + ": decrypting: wrong password or corrupted key"},
		{"no password", nil, []string{"--key", key}, "Error: --key " + key + ": no key password: set COSIGN_PASSWORD"},
		{"no key", nil, nil, "Error: exactly one of: key reference (--key), or hardware token (--sk) must be provided"},
		{"key and sk", nil, []string{"--key", key, "--sk"}, "Error: exactly one of: key reference (--key), or hardware token (--sk) must be provided"},
		{"sk", nil, []string{"--sk"}, "Error: --sk: hardware security keys are not supported by this build"},
		{"public key", nil, []string{"--key", vectors + "cosign-v3.1.3.pub"}, `is a public key; give the private key (cosign.key)`},
		{"unset env", nil, []string{"--key", "env://NOPE"}, "Error: --key env://NOPE: environment variable NOPE (from env://NOPE) is empty or unset"},
		{"k8s", nil, []string{"--key", "k8s://ns/name"}, "k8s:// keys (Kubernetes secrets) are not supported by this build"},
		{"kms", nil, []string{"--key", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"}, "gcpkms:// keys need the sigstore-kms-gcpkms plugin, which `make build` and signet's release archives put beside signet: it is neither beside this executable nor on PATH (or build signet with -tags kms_gcp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "kms" && len(keys.KMSProviders()) > 0 {
				t.Skip("a KMS provider is compiled in")
			}
			r := clitest.Run(t, clitest.Options{Env: c.env}, append([]string{"public-key"}, c.args...)...)
			r.CheckOneErrorLine(t)
			if !strings.Contains(r.ErrLine(), c.want) || r.Stdout != "" {
				t.Errorf("error %q, want %q; stdout %q", r.ErrLine(), c.want, r.Stdout)
			}
		})
	}
}

// public-key --key <KMS URI> through a plugin.
func TestPublicKeyKMS(t *testing.T) {
	ref := keystest.InstallFakeKMS(t, "fakekms")
	want, err := keys.MarshalPublicKeyPEM(keystest.CreateKey(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	r := clitest.Run(t, clitest.Options{}, "public-key", "--key", ref)
	if r.Code != 0 || r.Stdout != string(want) {
		t.Errorf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}
