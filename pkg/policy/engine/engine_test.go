package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/signetdev/signet/pkg/policy"
)

// statement is cosign's custom attestation as `cosign attest --type custom`
// writes it; the golden table below runs the policies of the facts doc
// (../shared/docs/policy-and-admission.md §1) over it.
const statement = `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cosign.sigstore.dev/attestation/v1",` +
	`"subject":[{"name":"registry.local/app","digest":{"sha256":"4d2e2b8b7b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5"}}],` +
	`"predicate":{"Data":"foobar test attestation","Timestamp":"2026-11-30T07:00:00Z","size":12345678901234567891}}`

func src(name, text string) Source {
	lang, err := policy.LangOf(name)
	if err != nil {
		panic(err)
	}
	return Source{Name: name, Lang: lang, Data: []byte(text)}
}

// TestGoldenCosign is the facts doc's table: each policy with cosign's
// message (cue v0.16.1 / OPA v1.17.1, measured) and signet's. A policy
// that does not compile fails in Compile (signet checks policies before
// any network request); cosign reports the same text as a validation
// error after verifying.
func TestGoldenCosign(t *testing.T) {
	for _, tc := range []struct {
		name   string
		srcs   []Source
		cosign string // cosign's `- <err>` line text; "" = pass
		signet string // substring of signet's error; "" = pass
	}{
		{"cue works", []Source{src("cue-works.cue", "import \"time\"\n\nbefore: time.Parse(time.RFC3339, \"2049-10-09T17:10:27Z\")\n\npredicateType: \"https://cosign.sigstore.dev/attestation/v1\"\npredicate: {\n\tTimestamp: <before\n}\n")}, "", ""},
		{"cue conflicting value", []Source{src("p.cue", "predicateType: \"https://cosignnotreally.sigstore.dev/attestation/v1\"\n")},
			`predicateType: conflicting values "https://cosign.sigstore.dev/attestation/v1" and "https://cosignnotreally.sigstore.dev/attestation/v1"`,
			`policy p.cue: predicateType: conflicting values "https://cosign.sigstore.dev/attestation/v1" and "https://cosignnotreally.sigstore.dev/attestation/v1"`},
		{"cue partial predicate", []Source{src("p.cue", "predicate: Data: \"foobar test attestation\"\n")}, "", ""},
		{"cue syntax error", []Source{src("bad.cue", "predicate: {\n")}, "expected '}', found 'EOF'", "policy bad.cue: expected '}', found 'EOF'"},
		{"two cue files unified", []Source{src("a.cue", "predicate: Data: string\n"), src("b.cue", "predicateType: \"https://cosignnotreally.sigstore.dev/attestation/v1\"\n")},
			`predicateType: conflicting values "https://cosign.sigstore.dev/attestation/v1" and "https://cosignnotreally.sigstore.dev/attestation/v1"`,
			"policy b.cue: predicateType: conflicting values"},
		{"rego allow", []Source{src("p.rego", "package signature\n\nallow {\n  input.predicateType == \"https://cosign.sigstore.dev/attestation/v1\"\n}\n")}, "", ""},
		{"rego undefined", []Source{src("p.rego", "package signature\n\nallow {\n  input.predicateType == \"nope\"\n}\n")},
			"result is undefined for query 'data.signature.allow'", "policy p.rego: data.signature.allow: is undefined"},
		{"rego default false", []Source{src("p.rego", "package signature\n\ndefault allow = false\nallow {\n  input.predicateType == \"nope\"\n}\n")},
			"expression value, false, is not true", "policy p.rego: data.signature.allow: is false, not true"},
		{"rego v1 syntax", []Source{src("p.rego", "package signature\n\nallow if {\n  input.predicateType == \"https://cosign.sigstore.dev/attestation/v1\"\n}\n")},
			"rego_parse_error: var cannot be used for rule name", "var cannot be used for rule name"},
		{"rego v1 with import rego.v1", []Source{src("p.rego", "package signature\n\nimport rego.v1\n\nallow if {\n  input.predicateType == \"https://cosign.sigstore.dev/attestation/v1\"\n}\n")}, "", ""},
		{"rego package main", []Source{src("p.rego", "package main\n\nallow {\n  true\n}\n")},
			"result is undefined for query 'data.signature.allow'", "data.signature.allow: is undefined"},
		{"rego set-valued allow", []Source{src("p.rego", "package signature\n\nallow[x] {\n  x := 1\n}\n")},
			"expression value, [1], is not true", "data.signature.allow: is [1], not true"},
		{"rego exact numbers", []Source{src("p.rego", "package signature\n\nallow {\n  input.predicate.size == 12345678901234567891\n  input.predicate.size != 12345678901234567890\n}\n")}, "", ""},
		{"cue exact numbers", []Source{src("p.cue", "predicate: size: 12345678901234567891\n")}, "", ""},
		{"cue exact numbers differ", []Source{src("p.cue", "predicate: size: 12345678901234567890\n")},
			"predicate.size: conflicting values 12345678901234567891 and 12345678901234567890", "policy p.cue: predicate.size: conflicting values"},
		{"cue and rego both fail", []Source{src("p.cue", "predicate: Data: \"other\"\n"), src("p.rego", "package signature\n\ndefault allow = false\n")},
			`predicate.Data: conflicting values "foobar test attestation" and "other"`, "policy p.cue: predicate.Data: conflicting values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Compile(context.Background(), CosignCLI, tc.srcs...)
			if err == nil {
				var r *Result
				r, err = set.Check(context.Background(), []byte(statement))
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if tc.cosign != "" && (len(r.Messages) == 0 || r.Messages[0] != tc.cosign) {
					t.Errorf("cosign message %q, want %q", r.Messages, tc.cosign)
				}
				err = r.Err()
			} else if tc.cosign != "" && !strings.Contains(err.Error(), tc.cosign) {
				t.Errorf("compile error %q does not carry cosign's %q", err, tc.cosign)
			}
			switch {
			case tc.signet == "" && err != nil:
				t.Fatalf("want pass, got %v", err)
			case tc.signet != "" && err == nil:
				t.Fatalf("want failure %q, passed", tc.signet)
			case tc.signet != "" && !strings.Contains(err.Error(), tc.signet):
				t.Fatalf("error %q, want it to contain %q", err, tc.signet)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestFailureListsEveryViolation(t *testing.T) {
	set, err := Compile(context.Background(), CosignCLI,
		src("a.cue", "predicate: Data: \"other\"\n\"_type\": \"x\"\n"),
		src("p.rego", "package signature\n\ndefault allow = false\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = set.Evaluate(context.Background(), []byte(statement))
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("want *Failure, got %v", err)
	}
	var got []string
	for _, v := range f.Violations {
		got = append(got, v.Policy+"|"+string(v.Lang)+"|"+v.Path)
	}
	want := `a.cue|cue|predicate.Data a.cue|cue|"_type" p.rego|rego|data.signature.allow`
	if strings.Join(got, " ") != want {
		t.Errorf("violations %q, want %q", got, want)
	}
	if len(f.Messages) != 2 {
		t.Errorf("cosign prints one line per engine, got %q", f.Messages)
	}
}

func TestPolicyController(t *testing.T) {
	for _, tc := range []struct {
		name, policy, wantErr, wantWarn string
	}{
		{"boolean true", "package sigstore\n\nisCompliant {\n  input.predicateType == \"https://cosign.sigstore.dev/attestation/v1\"\n}\n", "", ""},
		{"boolean false", "package sigstore\n\ndefault isCompliant = false\n", "policy is not compliant for query 'isCompliant = data.sigstore.isCompliant'", ""},
		{"undefined", "package sigstore\n\nisCompliant {\n  false\n}\n", "policy is not compliant for query 'isCompliant = data.sigstore.isCompliant'", ""},
		{"result object passes with warning", "package sigstore\n\nisCompliant[response] {\n  response := {\"result\": true, \"warning\": \"old scanner\"}\n}\n", "", "old scanner"},
		{"result object fails with error", "package sigstore\n\nisCompliant[response] {\n  response := {\"result\": false, \"error\": \"critical CVE-2026-1\", \"warning\": \"look\"}\n}\n",
			`policy is not compliant for query 'isCompliant = data.sigstore.isCompliant' with errors: critical CVE-2026-1`, "look"},
		{"result array passes on its first true", "package sigstore\n\nisCompliant := [{\"result\": false, \"error\": \"e1\"}, {\"result\": true, \"warning\": \"w2\"}, {\"result\": false, \"error\": \"e3\"}]\n", "", "w2"},
		{"every error of a failing set", "package sigstore\n\nisCompliant := [{\"result\": false, \"error\": \"no SBOM\"}, {\"error\": \"scanner too old\"}]\n",
			`policy is not compliant for query 'isCompliant = data.sigstore.isCompliant' with errors: no SBOM; scanner too old`, ""},
		{"empty set", "package sigstore\n\nisCompliant[r] {\n  false\n  r := {\"result\": true}\n}\n", `policy is not compliant for query "isCompliant = data.sigstore.isCompliant"`, ""},
		{"not an object fails closed", "package sigstore\n\nisCompliant := [\"yes\", {\"result\": true}]\n", `unexpected result "yes"`, ""},
		{"result not a boolean fails closed", "package sigstore\n\nisCompliant := [{\"result\": \"true\"}, {\"result\": true}]\n", `unexpected result {"result":"true"}`, ""},
		{"cue", "predicate: Data: \"nope\"\n", `failed to evaluate the policy with error: predicate.Data: conflicting values "foobar test attestation" and "nope"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "policy P, authority A, attestation N.rego"
			if !strings.HasPrefix(tc.policy, "package") {
				name = "policy P.cue"
			}
			set, err := Compile(context.Background(), PolicyController, src(name, tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			r, err := set.Check(context.Background(), []byte(statement))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.wantErr == "" && r.Err() != nil:
				t.Errorf("want pass, got %v", r.Err())
			case tc.wantErr != "" && (len(r.Messages) != 1 || !strings.Contains(r.Messages[0], tc.wantErr)):
				t.Errorf("messages %q, want %q", r.Messages, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(r.Err().Error(), name):
				t.Errorf("error %q does not name the policy", r.Err())
			}
			if strings.Join(r.Warnings, ",") != tc.wantWarn {
				t.Errorf("warnings %q, want %q", r.Warnings, tc.wantWarn)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		srcs []Source
		want string
	}{
		{nil, "no policies"},
		{[]Source{{Name: "x.txt", Lang: "yaml"}}, `policy x.txt: unknown language "yaml"`},
		{[]Source{src("a.cue", "package a\nx: 1\n"), src("b.cue", "package b\ny: 1\n")}, `policy b.cue: package name "b" conflicts with previous package name "a"`},
		{[]Source{src("p.rego", "package signature\nallow { input.x == }\n")}, "policy p.rego: "},
		{[]Source{src("net.rego", "package signature\nallow { http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1/\"}).status_code == 200 }\n")}, "undefined function http.send"},
	} {
		_, err := Compile(ctx, CosignCLI, tc.srcs...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%v): %v, want %q", tc.srcs, err, tc.want)
		}
	}
}

func TestStatementNotJSON(t *testing.T) {
	for _, s := range []Source{src("p.cue", "x?: int\n"), src("p.rego", "package signature\nallow { true }\n")} {
		set, err := Compile(context.Background(), CosignCLI, s)
		if err != nil {
			t.Fatal(err)
		}
		var f *Failure
		if err := set.Evaluate(context.Background(), []byte(`{"a":`)); err == nil || errors.As(err, &f) {
			t.Errorf("%s: not JSON gave %v, want a plain error", s.Name, err)
		}
	}
}

// The webhook evaluates one Set from many goroutines (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	set, err := Compile(context.Background(), CosignCLI,
		src("p.cue", "predicate: Data: \"foobar test attestation\"\n"),
		src("p.rego", "package signature\nallow { input.predicate.Data == \"foobar test attestation\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- set.Evaluate(context.Background(), []byte(statement))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	set, err := Compile(context.Background(), CosignCLI, src("p.rego", "package signature\nallow { count(numbers.range(1, 100000000)) > 0 }\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := set.Evaluate(ctx, []byte(statement)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled evaluation: %v", err)
	}
}

// TestDenyMessages: beyond cosign, a data.signature.deny set explains a
// failing allow in the violation (cosign ignores the rule).
func TestDenyMessages(t *testing.T) {
	set, err := Compile(context.Background(), CosignCLI, src("p.rego", `package signature

import rego.v1

default allow := false

allow if count(deny) == 0

deny contains msg if {
	input.predicate.Data != "ok"
	msg := sprintf("Data is %q, want ok", [input.predicate.Data])
}

deny contains "second reason" if true
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.Check(context.Background(), []byte(statement))
	if err != nil {
		t.Fatal(err)
	}
	want := `policy p.rego: data.signature.allow: is false, not true; deny: Data is "foobar test attestation", want ok; second reason`
	if r.Err() == nil || r.Err().Error() != want || len(r.Messages) != 1 || r.Messages[0] != "expression value, false, is not true" {
		t.Errorf("got %v / %q, want %q", r.Err(), r.Messages, want)
	}
}

// TestCheckRecoversPanic: an engine bug on one statement is that check's
// error, not a crash of the process running other checks.
func TestCheckRecoversPanic(t *testing.T) {
	set, err := Compile(context.Background(), CosignCLI, Source{Name: "p.cue", Lang: CUE, Data: []byte("predicate: l: [...int]\n")})
	if err != nil {
		t.Fatal(err)
	}
	set.cue.chunk = 0 // divides by zero once a list is chunked
	_, err = set.Check(context.Background(), []byte(`{"predicate":{"l":[1,2]}}`))
	if err == nil || !strings.Contains(err.Error(), "policy engine failed on this statement") {
		t.Fatalf("error %v", err)
	}
}
