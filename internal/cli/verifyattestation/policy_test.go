package verifyattestation_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

var noTlog = []string{"--yes", "--use-signing-config=false", "--tlog-upload=false"}

type fixture struct {
	dir, key, pub, digest string
	env                   clitest.Env
}

// attested pushes an image and attests it (--type custom, cosign's
// {"Data","Timestamp"} predicate) once per data, stored as bundles or as a
// legacy .att image.
func attested(t *testing.T, legacy bool, data ...string) fixture {
	host := regtest.Registry(t, true)
	tag, d := regtest.PushRandom(t, host, "app")
	dir := t.TempDir()
	key, pub := regtest.KeyPair(t, dir, "cosign")
	fx := fixture{dir: dir, key: key, pub: pub, digest: d.String(), env: clitest.Env{"COSIGN_PASSWORD": ""}}
	for i, text := range data {
		pred := fx.file(t, "pred.txt", text)
		args := append([]string{"attest", "--key", key, "--predicate", pred, "--type", "custom"}, noTlog...)
		if legacy {
			args = append(args, "--new-bundle-format=false")
		}
		if r := fx.run(t, append(args, tag.String())...); r.Code != 0 {
			t.Fatalf("attest %d: %s", i, r.Stderr)
		}
	}
	return fx
}

func (fx fixture) run(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, clitest.Options{Env: fx.env, Transport: http.DefaultTransport}, args...)
}

func (fx fixture) file(t *testing.T, name, content string) string {
	t.Helper()
	return clitest.WriteFile(t, fx.dir, name, content)
}

func (fx fixture) verify(t *testing.T, target string, extra []string, policies ...string) clitest.Result {
	t.Helper()
	args := []string{"verify-attestation", "--type", "custom", "--key", fx.pub, "--insecure-ignore-tlog"}
	for _, p := range policies {
		args = append(args, "--policy", p)
	}
	return fx.run(t, append(append(args, extra...), target)...)
}

// golden is the facts doc's table (../shared/docs/policy-and-admission.md
// §1) through the CLI: cosign v3.1.3's stderr "- " line for each policy,
// measured with cue v0.16.1 / OPA v1.17.1, beside signet's. cosign prints
// the same lines; its error is "1 validation errors occurred", exit 1.
var golden = []struct {
	name, file, policy string
	cosign             string // cosign's "- " line; "" = pass
}{
	{"pass", "works.cue", "predicateType: \"https://cosign.sigstore.dev/attestation/v1\"\npredicate: Data: \"foobar test attestation\"\n", ""},
	{"conflicting value", "conflict.cue", "predicateType: \"https://cosignnotreally.sigstore.dev/attestation/v1\"\n",
		`predicateType: conflicting values "https://cosign.sigstore.dev/attestation/v1" and "https://cosignnotreally.sigstore.dev/attestation/v1"`},
	{"rego allow", "allow.rego", "package signature\n\nallow {\n  input.predicate.Data == \"foobar test attestation\"\n}\n", ""},
	{"rego undefined", "undefined.rego", "package signature\n\nallow {\n  input.predicate.Data == \"nope\"\n}\n", "result is undefined for query 'data.signature.allow'"},
	{"rego false", "false.rego", "package signature\n\ndefault allow = false\n", "expression value, false, is not true"},
	{"rego v1 with import", "v1.rego", "package signature\n\nimport rego.v1\n\nallow if input.predicate.Data == \"foobar test attestation\"\n", ""},
	{"package main", "main.rego", "package main\n\nallow {\n  true\n}\n", "result is undefined for query 'data.signature.allow'"},
	{"set-valued allow", "set.rego", "package signature\n\nallow[x] {\n  x := 1\n}\n", "expression value, [1], is not true"},
}

func TestPolicyGolden(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		fx := attested(t, legacy, "foobar test attestation")
		for _, tc := range golden {
			r := fx.verify(t, fx.digest, nil, fx.file(t, tc.file, tc.policy))
			kind := "CUE"
			if strings.HasSuffix(tc.file, ".rego") {
				kind = "Rego"
			}
			if !strings.Contains(r.Stderr, "will be validating against "+kind+" policies: ["+filepath.Join(fx.dir, tc.file)+"]\n") {
				t.Errorf("legacy=%v %s: no cosign 'will be validating' line:\n%s", legacy, tc.name, r.Stderr)
			}
			if tc.cosign == "" {
				if r.Code != 0 || !strings.Contains(r.Stdout, `"payload"`) {
					t.Errorf("legacy=%v %s: exit %d, want pass\n%s", legacy, tc.name, r.Code, r.Stderr)
				}
				continue
			}
			want := "There are 1 number of errors occurred during the validation:\n\n- " + tc.cosign + "\n    policy " + filepath.Join(fx.dir, tc.file)
			if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, want) || r.ErrLine() != "Error: 1 validation errors occurred" {
				t.Errorf("legacy=%v %s: exit %d, stdout %q, want cosign's lines %q\n%s", legacy, tc.name, r.Code, r.Stdout, want, r.Stderr)
			}
		}
	}
}

// TestPolicyAllOrNothing: one failing attestation of the type fails the
// run and nothing is printed, as cosign; the CUE failure skips Rego for
// that attestation, as cosign.
func TestPolicyAllOrNothing(t *testing.T) {
	fx := attested(t, false, "foobar test attestation", "something else")
	cue := fx.file(t, "data.cue", "predicate: Data: \"foobar test attestation\"\n")
	rego := fx.file(t, "any.rego", "package signature\nallow { true }\n")
	r := fx.verify(t, fx.digest, nil, cue+","+rego)
	if r.Code != 1 || r.Stdout != "" || strings.Count(r.Stderr, "will be validating against CUE") != 2 ||
		strings.Count(r.Stderr, "will be validating against Rego") != 1 ||
		!strings.Contains(r.Stderr, "There are 1 number of errors occurred during the validation:\n\n- predicate.Data: conflicting values") {
		t.Errorf("exit %d stdout %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "(attestation https://cosign.sigstore.dev/attestation/v1, referrer sha256:") {
		t.Errorf("detail line does not name the attestation:\n%s", r.Stderr)
	}
}

// TestPolicyLocalImage: --local-image gives the policy the same statement.
func TestPolicyLocalImage(t *testing.T) {
	fx := attested(t, false, "foobar test attestation")
	dir := filepath.Join(fx.dir, "saved")
	if r := fx.run(t, "save", "--dir", dir, fx.digest); r.Code != 0 {
		t.Fatalf("save: %s", r.Stderr)
	}
	pass := fx.file(t, "pass.cue", "predicate: Data: \"foobar test attestation\"\n")
	fail := fx.file(t, "fail.rego", "package signature\ndefault allow = false\n")
	if r := fx.verify(t, dir, []string{"--local-image"}, pass); r.Code != 0 {
		t.Errorf("pass: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := fx.verify(t, dir, []string{"--local-image"}, fail); r.Code != 1 || !strings.Contains(r.Stderr, "- expression value, false, is not true") {
		t.Errorf("fail: exit %d\n%s", r.Code, r.Stderr)
	}
}

// TestPolicyErrorsBeforeNetwork: a bad extension, a missing file and a
// policy that does not compile fail before any request (the default
// clitest transport refuses and counts them), unlike cosign, which
// checks them after verifying.
func TestPolicyErrorsBeforeNetwork(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string { return clitest.WriteFile(t, dir, name, text) }
	for _, tc := range []struct{ policy, want string }{
		{write("p.json", "{}"), "invalid policy format, expected .cue or .rego"},
		{filepath.Join(dir, "missing.cue"), "no such file or directory"},
		{write("bad.cue", "predicate: {\n"), "expected '}', found 'EOF'"},
		{write("v1.rego", "package signature\nallow if { true }\n"), "rego_parse_error: var cannot be used for rule name"},
	} {
		for _, verb := range [][]string{
			{"verify-attestation", "--key", write("k.pub", "x"), "registry.example/app@sha256:" + strings.Repeat("a", 64)},
			{"verify-blob-attestation", "--key", write("k.pub", "x"), "--bundle", write("b.json", "{}"), write("a.txt", "a")},
		} {
			r := clitest.Run(t, clitest.Options{}, append(append([]string{verb[0], "--policy", tc.policy}, verb[1:len(verb)-1]...), verb[len(verb)-1])...)
			r.CheckOneErrorLine(t)
			if r.Code != 1 || !strings.Contains(r.ErrLine(), "--policy") || !strings.Contains(r.ErrLine(), tc.want) || r.NetworkCalls != 0 {
				t.Errorf("%s --policy %s: exit %d, %d requests, %s; want %q", verb[0], tc.policy, r.Code, r.NetworkCalls, r.ErrLine(), tc.want)
			}
		}
	}
}

// TestNoneMatched: attestations of other types only give cosign's
// message, naming the --type as given and the types found (exit 12).
func TestNoneMatched(t *testing.T) {
	fx := attested(t, false, "foobar test attestation")
	r := fx.run(t, "verify-attestation", "--type", "cyclonedx", "--key", fx.pub, "--insecure-ignore-tlog", fx.digest)
	if r.Code != 12 || r.ErrLine() != "Error: none of the attestations matched the predicate type: cyclonedx, found: https://cosign.sigstore.dev/attestation/v1" {
		t.Errorf("exit %d: %s", r.Code, r.Stderr)
	}
}
