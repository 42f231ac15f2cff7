package flags_test

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/shared"
	"github.com/signetdev/signet/pkg/oidc"
)

// TestOIDCFlagsMatchCosign: the flags are cosign v3's, on each signing
// verb, with the same types, defaults, and hidden deprecations.
func TestOIDCFlagsMatchCosign(t *testing.T) {
	path := shared.Path(t, "..", "docs", "cosign-v3-flags.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("cosign flag list: %v", err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^  (?:-[a-zA-Z],)?--([a-z0-9-]+) \(([^)]*)\) default="([^"]*)"(.*) :: `)
	ours := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var o flags.OIDC
	o.AddFlags(ours)
	checked := map[string]int{}
	verb := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "CMD cosign "); ok {
			verb = strings.Fields(rest)[0]
			continue
		}
		switch verb {
		case "sign", "sign-blob", "attest", "attest-blob":
		default:
			continue
		}
		m := line.FindStringSubmatch(sc.Text())
		if m == nil || (!strings.HasPrefix(m[1], "oidc-") && m[1] != "identity-token" && m[1] != "fulcio-auth-flow") {
			continue
		}
		fl := ours.Lookup(m[1])
		if fl == nil {
			t.Errorf("%s: missing --%s", verb, m[1])
			continue
		}
		checked[verb]++
		if fl.Value.Type() != m[2] || fl.DefValue != m[3] {
			t.Errorf("--%s: %s default %q; cosign: %s default %q", m[1], fl.Value.Type(), fl.DefValue, m[2], m[3])
		}
		notice := fl.Annotations[cli.DeprecatedFlag]
		if dep := strings.Contains(m[4], "[DEPRECATED"); dep != fl.Hidden || dep != (len(notice) == 1) {
			t.Errorf("--%s: hidden %v, deprecation notice %q; cosign deprecated: %v", m[1], fl.Hidden, notice, dep)
		}
	}
	for _, v := range []string{"sign", "sign-blob", "attest", "attest-blob"} {
		if checked[v] != 8 {
			t.Errorf("%s: %d OIDC flags checked, want 8", v, checked[v])
		}
	}
	if fl := ours.Lookup("oidc-audience"); fl == nil || fl.DefValue != "sigstore" {
		t.Error("--oidc-audience missing")
	}
}

// probe is a signing verb reduced to its identity token: it prints the
// token's description (never the token).
func probe(o *flags.OIDC, issuer string) func(*cli.Factory) *cobra.Command {
	return func(f *cli.Factory) *cobra.Command {
		var yes bool
		c := &cobra.Command{
			Use: "probe",
			RunE: func(cmd *cobra.Command, _ []string) error {
				opts := o.Options(f, issuer)
				opts.Yes = yes
				tok, err := oidc.Get(cmd.Context(), opts)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), tok.Source, tok.Subject)
				return nil
			},
		}
		o.AddFlags(c.Flags())
		c.Flags().BoolVarP(&yes, "yes", "y", false, "")
		return c
	}
}

func runProbe(t *testing.T, env map[string]string, issuer string, args ...string) (o *flags.OIDC, code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := cli.NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	f.Transport = &clitest.NoNetwork{}
	f.Now = func() time.Time { return time.Unix(1_800_000_000, 0) }
	o = &flags.OIDC{}
	code = cli.MainWithFactory(context.Background(), append([]string{"probe"}, args...), f, probe(o, issuer))
	return o, code, out.String(), errOut.String()
}

func TestOIDCOptions(t *testing.T) {
	o, code, _, stderr := runProbe(t, map[string]string{"COSIGN_OIDC_PROVIDER": "spiffe"}, "",
		"--identity-token", "a.b", "--oidc-client-id", "cid", "--oidc-client-secret-file", "/s", "--oidc-redirect-url", "http://localhost:8888/cb",
		"--fulcio-auth-flow", "device", "--oidc-audience", "aud", "--oidc-disable-ambient-providers")
	if code == 0 {
		t.Fatalf("a malformed token was accepted: %s", stderr)
	}
	f := cli.NewFactory(iostreams.System())
	got := o.Options(f, "")
	if got.IdentityToken != "a.b" || got.ClientID != "cid" || got.ClientSecretFile != "/s" || got.RedirectURL != "http://localhost:8888/cb" ||
		got.AuthFlow != "device" || got.Audience != "aud" || !got.DisableAmbient || got.Provider != "spiffe" || got.Issuer != oidc.DefaultIssuer {
		t.Errorf("options %+v", got)
	}
	if got.Transport != f.Transport || got.In != f.IOStreams.In || got.ErrOut != f.IOStreams.ErrOut || got.Getenv == nil || got.Now == nil || got.Debugf == nil {
		t.Error("factory not wired")
	}
	if o.ExplicitIssuer() != "" {
		t.Errorf("ExplicitIssuer %q for the default", o.ExplicitIssuer())
	}

	// The issuer: the signing config's, else --oidc-issuer (deprecated,
	// hidden, but working).
	if got := o.Options(f, "https://sc.example").Issuer; got != "https://sc.example" {
		t.Errorf("issuer %s", got)
	}
	o, _, _, _ = runProbe(t, nil, "", "--oidc-issuer", "https://old.example", "--fulcio-auth-flow", "token")
	if got := o.Options(f, "").Issuer; got != "https://old.example" || o.ExplicitIssuer() != "https://old.example" {
		t.Errorf("issuer %s", got)
	}
}

func TestOIDCCLIErrorsOneLine(t *testing.T) {
	_, code, _, stderr := runProbe(t, nil, "", "--identity-token", "nonsense")
	if code != 1 || !strings.Contains(stderr, "Error: --identity-token: not a JWT (want three base64url parts), nor the path of a file\n") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// mint returns an RS256 token for claims over the defaults.
func mint(t *testing.T, over map[string]any) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{"iss": "https://issuer.example", "sub": "ci", "aud": "sigstore", "exp": 1_800_000_600, "nbf": 1_799_999_900}
	for k, v := range over {
		c[k] = v
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	in := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestOIDCVerboseKeepsSecrets: through the CLI with --verbose, accepted
// and rejected tokens from the flag and the environment never reach
// stdout or stderr.
func TestOIDCVerboseKeepsSecrets(t *testing.T) {
	good, expired, wrongAud := mint(t, nil), mint(t, map[string]any{"exp": 1_700_000_000}), mint(t, map[string]any{"aud": "x"})
	secretFile := t.TempDir() + "/secret"
	if err := os.WriteFile(secretFile, []byte("client-SECRET-4242"), 0o600); err != nil {
		t.Fatal(err)
	}
	runs := []struct {
		env  map[string]string
		args []string
		ok   bool
	}{
		{nil, []string{"--identity-token", good}, true},
		{nil, []string{"--identity-token", expired}, false},
		{map[string]string{"SIGSTORE_ID_TOKEN": good}, nil, true},
		{map[string]string{"SIGSTORE_ID_TOKEN": wrongAud}, nil, false},
		{map[string]string{"COSIGN_IDENTITY_TOKEN": good}, nil, true},
		{nil, []string{"--oidc-client-secret-file", secretFile, "--fulcio-auth-flow", "client_credentials", "--oidc-issuer", "https://issuer.example"}, false},
	}
	for i, r := range runs {
		_, code, stdout, stderr := runProbe(t, r.env, "", append([]string{"--verbose"}, r.args...)...)
		if (code == 0) != r.ok {
			t.Errorf("run %d: exit %d: %s", i, code, stderr)
		}
		if !strings.Contains(stderr, "debug: ") {
			t.Errorf("run %d: no debug output", i)
		}
		for _, s := range []string{good, expired, wrongAud, "client-SECRET-4242"} {
			if strings.Contains(stdout+stderr, s) || strings.Contains(stdout+stderr, s[len(s)/2:]) {
				t.Errorf("run %d printed a secret:\n%s\n%s", i, stdout, stderr)
			}
		}
	}
}
