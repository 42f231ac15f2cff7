package attest_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/attest"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

func TestArgvToOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *attest.Options
	cmd := attest.NewCmdAttest(cli.NewFactory(ios), func(_ context.Context, o *attest.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--yes", "--predicate", "p.json", "--type", "slsaprovenance1", "--no-upload",
		"--new-bundle-format=false", "--replace", "--key", "k", "img"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Predicate.Predicate != "p.json" || got.Predicate.Type != "slsaprovenance1" || !got.NoUpload ||
		got.NewBundleFormat || !got.Replace || got.Signer.Key != "k" || len(got.Images) != 1 {
		t.Fatalf("options: %+v", got)
	}
}

type fixture struct {
	host, key, pub, dir, tag, digest string
	env                              clitest.Env
}

func newFixture(t *testing.T, referrers bool) fixture {
	host := regtest.Registry(t, referrers)
	tag, d := regtest.PushRandom(t, host, "app")
	dir := t.TempDir()
	key, pub := regtest.KeyPair(t, dir, "cosign")
	return fixture{host: host, key: key, pub: pub, dir: dir, tag: tag.String(), digest: d.String(), env: clitest.Env{"COSIGN_PASSWORD": ""}}
}

func (fx fixture) run(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, clitest.Options{Env: fx.env, Transport: http.DefaultTransport}, args...)
}

func (fx fixture) file(t *testing.T, name, content string) string {
	p := filepath.Join(fx.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var noTlog = []string{"--yes", "--use-signing-config=false", "--tlog-upload=false"}

// TestAttestThenVerify: an attestation stored either way verifies with
// verify-attestation of its type, not of another, and never counts as a
// signature for verify.
func TestAttestThenVerify(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		for _, referrers := range []bool{true, false} {
			fx := newFixture(t, referrers)
			pred := fx.file(t, "pred.json", `{"buildType":"x","builder":{"id":"y"}}`)
			args := append([]string{"attest", "--key", fx.key, "--predicate", pred, "--type", "slsaprovenance"}, noTlog...)
			if legacy {
				args = append(args, "--new-bundle-format=false")
			}
			if r := fx.run(t, append(args, fx.tag)...); r.Code != 0 {
				t.Fatalf("legacy=%v referrers=%v: attest: %s", legacy, referrers, r.Stderr)
			}
			verify := []string{"--key", fx.pub, "--insecure-ignore-tlog"}
			if r := fx.run(t, append(append([]string{"verify-attestation", "--type", "slsaprovenance"}, verify...), fx.digest)...); r.Code != 0 || !strings.Contains(r.Stdout, "payload") {
				t.Errorf("legacy=%v referrers=%v: verify-attestation: exit %d\n%s", legacy, referrers, r.Code, r.Stderr)
			}
			if r := fx.run(t, append(append([]string{"verify-attestation", "--type", "spdxjson"}, verify...), fx.digest)...); r.Code == 0 {
				t.Errorf("legacy=%v referrers=%v: an slsaprovenance attestation passed as spdxjson", legacy, referrers)
			}
			if r := fx.run(t, append(append([]string{"verify"}, verify...), fx.digest)...); r.Code == 0 {
				t.Errorf("legacy=%v referrers=%v: an attestation passed as a signature", legacy, referrers)
			}
		}
	}
}

// TestAttestStatementRefusals: a --statement about another image is
// refused before anything is signed or stored; --no-upload prints the
// envelope and stores nothing.
func TestAttestStatementRefusals(t *testing.T) {
	fx := newFixture(t, true)
	st := fx.file(t, "st.json", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"`+strings.Repeat("0", 64)+`"}}],"predicateType":"https://example.com/p","predicate":{}}`)
	r := fx.run(t, append(append([]string{"attest", "--key", fx.key, "--statement", st}, noTlog...), fx.digest)...)
	r.CheckErrorLine(t)
	if !strings.Contains(r.ErrLine(), "--statement: no subject has the digest of") {
		t.Errorf("error: %s", r.ErrLine())
	}
	pred := fx.file(t, "pred.json", `{}`)
	r = fx.run(t, append(append([]string{"attest", "--key", fx.key, "--predicate", pred, "--no-upload"}, noTlog...), fx.digest)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, `"payloadType":"application/vnd.in-toto+json"`) {
		t.Fatalf("--no-upload: exit %d, stdout %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := fx.run(t, "verify-attestation", "--key", fx.pub, "--insecure-ignore-tlog", fx.digest); r.Code != 10 {
		t.Errorf("--no-upload stored something: verify-attestation exit %d, want 10\n%s", r.Code, r.Stderr)
	}
	for _, args := range [][]string{
		{"--predicate", pred, "--statement", st},
		{},
		{"--predicate", pred, "--type", "not a type"},
		{"--predicate", pred, "--replace"},
	} {
		r := fx.run(t, append(append(append([]string{"attest", "--key", fx.key}, noTlog...), args...), fx.digest)...)
		r.CheckErrorLine(t)
	}
}
