package importkeypair_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/importkeypair"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/pkg/keys"
)

// vectors are openssl-made keys (pkg/keys/testdata/README.md).
const vectors = "../../../pkg/keys/testdata/"

func TestArgvToOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want importkeypair.Options
	}{
		{"defaults", nil, nil, importkeypair.Options{OutputKeyPrefix: "import-cosign"}},
		{"long", []string{"--key", "k.pem", "--output-key-prefix", "my-key", "--yes"}, nil,
			importkeypair.Options{Key: "k.pem", OutputKeyPrefix: "my-key", Yes: true}},
		{"short", []string{"-k", "k.pem", "-o", "my-key", "-y"}, nil,
			importkeypair.Options{Key: "k.pem", OutputKeyPrefix: "my-key", Yes: true}},
		{"environment", nil, map[string]string{"COSIGN_KEY": "env.pem", "COSIGN_YES": "true"},
			importkeypair.Options{Key: "env.pem", OutputKeyPrefix: "import-cosign", Yes: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := cli.NewFactory(ios)
			f.Getenv = func(k string) string { return c.env[k] }
			var got *importkeypair.Options
			code := cli.MainWithFactory(context.Background(), append([]string{"import-key-pair"}, c.args...), f,
				func(f *cli.Factory) *cobra.Command {
					return importkeypair.NewCmdImportKeyPair(f, func(_ context.Context, o *importkeypair.Options) error { got = o; return nil })
				})
			if code != 0 || got == nil {
				t.Fatalf("exit %d", code)
			}
			if got.Key != c.want.Key || got.OutputKeyPrefix != c.want.OutputKeyPrefix || got.Yes != c.want.Yes {
				t.Errorf("got %+v, want %+v", *got, c.want)
			}
			if got.Pass == nil || got.Getenv == nil || got.Debugf == nil {
				t.Error("options not wired to the factory")
			}
		})
	}
}

// Each openssl key imports to a cosign pair whose .pub is openssl's public
// key and whose .key decrypts with the password.
func TestImport(t *testing.T) {
	for _, name := range []string{"openssl-rsa2048", "openssl-ec-p384", "openssl-ec-p256-pkcs8", "openssl-ed25519"} {
		t.Run(name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "imported")
			r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": "pw"}},
				"import-key-pair", "--key", vectors+name+".pem", "--output-key-prefix", prefix)
			if r.Code != 0 || r.Stdout != "" || r.Stderr != "Private key written to "+prefix+".key\nPublic key written to "+prefix+".pub\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
			}
			wantPub, _ := os.ReadFile(vectors + name + ".pub")
			if pub, _ := os.ReadFile(prefix + ".pub"); string(pub) != string(wantPub) {
				t.Errorf(".pub\n%s\nwant\n%s", pub, wantPub)
			}
			key, _ := os.ReadFile(prefix + ".key")
			if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf(".key mode %v (%v)", fi.Mode().Perm(), err)
			}
			priv, err := keys.DecryptPrivateKey(key, func(bool) ([]byte, error) { return []byte("pw"), nil })
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := keys.MarshalPublicKeyPEM(priv.Public()); string(got) != string(wantPub) {
				t.Error("the .key holds another key")
			}
		})
	}
}

func TestImportFromEnv(t *testing.T) {
	pemBytes, err := os.ReadFile(vectors + "openssl-ec-p384.pem")
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(t.TempDir(), "k")
	r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": "", "PEM": string(pemBytes)}},
		"import-key-pair", "--key", "env://PEM", "-o", prefix)
	if r.Code != 0 {
		t.Fatal(r.Stderr)
	}
}

// -y overwrites without asking; without it the prompt decides.
func TestImportExisting(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "k")
	env := clitest.Env{"COSIGN_PASSWORD": "pw"}
	run := func(stdin string, args ...string) clitest.Result {
		return clitest.Run(t, clitest.Options{Env: env, Stdin: stdin},
			append([]string{"import-key-pair", "-k", vectors + "openssl-rsa2048.pem", "-o", prefix}, args...)...)
	}
	if r := run(""); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	before, _ := os.ReadFile(prefix + ".key")
	r := run("")
	if r.Code != 1 || r.ErrLine() != "Error: user declined the prompt" {
		t.Errorf("exit %d: %s", r.Code, r.Stderr)
	}
	if after, _ := os.ReadFile(prefix + ".key"); string(after) != string(before) {
		t.Error("a declined import changed the key")
	}
	r = run("", "-y")
	want := "WARNING: File " + prefix + ".key already exists. Overwrite?\nPrivate key written to " + prefix + ".key\nPublic key written to " + prefix + ".pub\n"
	if r.Code != 0 || r.Stderr != want {
		t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
	}
	if after, _ := os.ReadFile(prefix + ".key"); string(after) == string(before) {
		t.Error("-y did not overwrite the key")
	}
}

func TestImportFailures(t *testing.T) {
	dir := t.TempDir()
	pw := clitest.Env{"COSIGN_PASSWORD": "pw"}
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		name string
		env  clitest.Env
		args []string
		want string
	}{
		{"no key", pw, nil, "Error: --key: give the PEM private key file to import"},
		{"missing file", pw, []string{"--key", filepath.Join(dir, "nope.pem")}, "Error: --key " + filepath.Join(dir, "nope.pem") + ": open "},
		{"weak RSA", pw, []string{"--key", vectors + "openssl-rsa1024.pem"}, "Error: --key " + vectors + "openssl-rsa1024.pem: RSA 1024 key rejected: key size not supported: 1024"},
		{"public key", pw, []string{"--key", vectors + "openssl-rsa2048.pub"}, `unsupported PEM block "PUBLIC KEY"`},
		{"cosign key", pw, []string{"--key", vectors + "cosign-v3.1.3.key"}, "is already a cosign key"},
		{"no password", nil, []string{"--key", vectors + "openssl-ec-p384.pem"}, "Error: no key password: set COSIGN_PASSWORD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := clitest.Run(t, clitest.Options{Env: c.env}, append([]string{"import-key-pair", "-o", out}, c.args...)...)
			r.CheckOneErrorLine(t)
			if !strings.Contains(r.ErrLine(), c.want) {
				t.Errorf("error %q, want %q", r.ErrLine(), c.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed imports left %d files", len(entries))
	}
}
