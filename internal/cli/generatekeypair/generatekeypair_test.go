package generatekeypair_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/generatekeypair"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/keys/keystest"
)

func TestMain(m *testing.M) {
	keystest.ServeFakeKMSIfPlugin()
	os.Exit(m.Run())
}

// argv → options, through the root command (COSIGN_<FLAG> binding too).
func TestArgvToOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want generatekeypair.Options
	}{
		{"defaults", nil, nil, generatekeypair.Options{OutputKeyPrefix: "cosign"}},
		{"prefix", []string{"--output-key-prefix", "my-name"}, nil, generatekeypair.Options{OutputKeyPrefix: "my-name"}},
		{"kms", []string{"--kms", "awskms:///alias/k"}, nil, generatekeypair.Options{OutputKeyPrefix: "cosign", KMS: "awskms:///alias/k"}},
		{"destination", []string{"k8s://ns/name"}, nil, generatekeypair.Options{OutputKeyPrefix: "cosign", Destination: "k8s://ns/name"}},
		{"single dash", []string{"-output-key-prefix=x"}, nil, generatekeypair.Options{OutputKeyPrefix: "x"}},
		{"environment", nil, map[string]string{"COSIGN_OUTPUT_KEY_PREFIX": "env", "COSIGN_KMS": "hashivault://k"},
			generatekeypair.Options{OutputKeyPrefix: "env", KMS: "hashivault://k"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, code := parse(t, c.env, c.args...)
			if code != 0 || got == nil {
				t.Fatalf("exit %d", code)
			}
			if got.OutputKeyPrefix != c.want.OutputKeyPrefix || got.KMS != c.want.KMS || got.Destination != c.want.Destination {
				t.Errorf("got %+v, want %+v", *got, c.want)
			}
			if got.Pass == nil || got.IO == nil || got.Debugf == nil {
				t.Error("options not wired to the factory")
			}
		})
	}
	if _, code := parse(t, nil, "a://b", "c://d"); code != 1 {
		t.Errorf("two arguments: exit %d", code)
	}
}

func parse(t *testing.T, env map[string]string, args ...string) (*generatekeypair.Options, int) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := cli.NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	var got *generatekeypair.Options
	code := cli.MainWithFactory(context.Background(), append([]string{"generate-key-pair"}, args...), f,
		func(f *cli.Factory) *cobra.Command {
			return generatekeypair.NewCmdGenerateKeyPair(f, func(_ context.Context, o *generatekeypair.Options) error { got = o; return nil })
		})
	return got, code
}

// checkPair checks prefix.key (0600, decrypts with password) and
// prefix.pub (0644, its public key).
func checkPair(t *testing.T, prefix, password string) {
	t.Helper()
	key, err := os.ReadFile(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{prefix + ".key": 0o600, prefix + ".pub": 0o644} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), mode, err)
		}
	}
	priv, err := keys.DecryptPrivateKey(key, func(bool) ([]byte, error) { return []byte(password), nil })
	if err != nil {
		t.Fatalf("%s.key with password %q: %v", prefix, password, err)
	}
	want, err := keys.MarshalPublicKeyPEM(priv.Public())
	if err != nil || string(want) != string(pub) {
		t.Errorf("%s.pub is not the key's public key", prefix)
	}
	if keys.KeyKind(priv.Public()) != "ECDSA P-256" {
		t.Errorf("generated %s", keys.KeyKind(priv.Public()))
	}
}

// dirNames lists a directory (temporary files would show here).
func dirNames(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

func TestGenerate(t *testing.T) {
	t.Run("default prefix in the working directory", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": "pw"}}, "generate-key-pair")
		if r.Code != 0 || r.Stdout != "" || r.Stderr != "Private key written to cosign.key\nPublic key written to cosign.pub\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		checkPair(t, filepath.Join(dir, "cosign"), "pw")
		if got := dirNames(t, dir); got != "cosign.key cosign.pub" {
			t.Errorf("directory holds %s", got)
		}
	})
	for _, c := range []struct {
		name, password string
		env            clitest.Env
		stdin          string
	}{
		{"empty COSIGN_PASSWORD", "", clitest.Env{"COSIGN_PASSWORD": ""}, "ignored"},
		{"piped password keeps its newline", "piped\n", nil, "piped\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "my-name")
			r := clitest.Run(t, clitest.Options{Env: c.env, Stdin: c.stdin}, "generate-key-pair", "--output-key-prefix", prefix)
			if r.Code != 0 {
				t.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			checkPair(t, prefix, c.password)
		})
	}
}

// An existing key is overwritten only after a "y" on stdin, as in cosign
// (generate-key-pair has no --yes); a refusal changes nothing.
func TestGenerateExistingKey(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "cosign")
	env := clitest.Env{"COSIGN_PASSWORD": "first"}
	if r := clitest.Run(t, clitest.Options{Env: env}, "generate-key-pair", "--output-key-prefix", prefix); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	before, _ := os.ReadFile(prefix + ".key")
	env = clitest.Env{"COSIGN_PASSWORD": "second"}
	for stdin, want := range map[string]string{
		"":        "Error: user declined the prompt",
		"n\n":     "Error: user declined the prompt",
		"maybe\n": "Error: invalid input (allowed values y, n)",
	} {
		r := clitest.Run(t, clitest.Options{Env: env, Stdin: stdin}, "generate-key-pair", "--output-key-prefix", prefix)
		wantStderr := "WARNING: File " + prefix + ".key already exists. Overwrite?\nAre you sure you would like to continue? [y/N] "
		if r.Code != 1 || !strings.HasPrefix(r.Stderr, wantStderr) || r.ErrLine() != want {
			t.Errorf("stdin %q: exit %d, stderr %q", stdin, r.Code, r.Stderr)
		}
		if after, _ := os.ReadFile(prefix + ".key"); string(after) != string(before) {
			t.Errorf("stdin %q: the key changed", stdin)
		}
	}
	checkPair(t, prefix, "first")
	r := clitest.Run(t, clitest.Options{Env: env, Stdin: "y\n"}, "generate-key-pair", "--output-key-prefix", prefix)
	if r.Code != 0 || !strings.Contains(r.Stderr, "Private key written to "+prefix+".key") {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	checkPair(t, prefix, "second")
	if got := dirNames(t, dir); got != "cosign.key cosign.pub" {
		t.Errorf("directory holds %s", got)
	}
}

// Failures are one line and leave no file, partial or whole.
func TestGenerateFailures(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no KMS plugins
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d.pub"), 0o755); err != nil {
		t.Fatal(err)
	}
	pw := clitest.Env{"COSIGN_PASSWORD": "pw"}
	for _, c := range []struct {
		name string
		env  clitest.Env
		args []string
		want string
	}{
		{"no password", nil, []string{"--output-key-prefix", filepath.Join(dir, "a")},
			`Error: no key password: set COSIGN_PASSWORD (COSIGN_PASSWORD="" for an empty one), pipe it on stdin, or run on a terminal to be asked`},
		{"missing directory", pw, []string{"--output-key-prefix", filepath.Join(dir, "missing", "a")},
			"Error: writing " + filepath.Join(dir, "missing", "a.key") + ": open "},
		{".pub is a directory", pw, []string{"--output-key-prefix", filepath.Join(dir, "d")},
			"Error: writing " + filepath.Join(dir, "d.pub") + ": is a directory"},
		{"empty prefix", pw, []string{"--output-key-prefix", ""}, "Error: --output-key-prefix is empty"},
		{"k8s", pw, []string{"k8s://ns/name"}, "Error: storing the key pair in a Kubernetes secret (k8s://) is not supported by this build of signet"},
		{"github", pw, []string{"github://owner/repo"}, "Error: storing the key pair in GitHub Actions secrets (github://) is not supported"},
		{"gitlab", pw, []string{"gitlab://group/project"}, "Error: storing the key pair in GitLab CI variables (gitlab://) is not supported"},
		{"no scheme", pw, []string{"ns/name"}, "Error: could not parse scheme, use <scheme>://<ref> format"},
		{"other scheme", pw, []string{"vault://x"}, "Error: undefined provider: vault"},
		{"kms and destination", pw, []string{"--kms", "hashivault://k", "k8s://ns/name"}, "Error: --kms and the destination k8s://ns/name cannot be used together"},
		{"kms without provider", pw, []string{"--kms", "awskms:///alias/k", "--output-key-prefix", filepath.Join(dir, "kms")},
			"Error: --kms awskms:///alias/k: awskms:// keys need the sigstore-kms-awskms plugin, which `make build` and signet's release archives put beside signet: it is neither beside this executable nor on PATH (or build signet with -tags kms_aws"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "kms without provider" && len(keys.KMSProviders()) > 0 {
				t.Skip("a KMS provider is compiled in")
			}
			r := clitest.Run(t, clitest.Options{Env: c.env}, append([]string{"generate-key-pair"}, c.args...)...)
			r.CheckOneErrorLine(t)
			if !strings.HasPrefix(r.ErrLine(), c.want) {
				t.Errorf("error %q, want %q", r.ErrLine(), c.want)
			}
		})
	}
	if got := dirNames(t, dir); got != "d.pub" {
		t.Errorf("directory holds %s", got)
	}
}

// generate-key-pair --kms through sigstore's plugin mechanism (a fake
// plugin): the KMS makes the key, only the .pub is written locally.
func TestGenerateKMS(t *testing.T) {
	ref := keystest.InstallFakeKMS(t, "fakekms")
	dir := t.TempDir()
	prefix := filepath.Join(dir, "kms")
	r := clitest.Run(t, clitest.Options{}, "generate-key-pair", "--kms", ref, "--output-key-prefix", prefix)
	if r.Code != 0 || r.Stderr != "Public key written to "+prefix+".pub\n" {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	pub, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	v, err := keys.LoadVerifier(ref, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	got, _ := v.PublicKey()
	if want, _ := keys.MarshalPublicKeyPEM(got); string(want) != string(pub) {
		t.Errorf("kms.pub\n%s\nis not the KMS key\n%s", pub, want)
	}
	if names := dirNames(t, dir); names != "kms.pub" {
		t.Errorf("directory holds %s", names)
	}

	broken := strings.Replace(ref, "key.pem", keystest.BrokenKey, 1)
	r = clitest.Run(t, clitest.Options{}, "generate-key-pair", "--kms", broken, "--output-key-prefix", filepath.Join(dir, "b"))
	r.CheckOneErrorLine(t)
	if !strings.Contains(r.ErrLine(), "fakekms: fake kms: the key service is unavailable") {
		t.Errorf("error %q", r.ErrLine())
	}
}
