package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/iostreams"
)

func envLookup(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// fakeTerminal answers prompts from a list and records how many were read.
type fakeTerminal struct {
	answers []string
	reads   int
}

func (f *fakeTerminal) read() ([]byte, error) {
	if f.reads >= len(f.answers) {
		return nil, errors.New("no more input")
	}
	f.reads++
	return []byte(f.answers[f.reads-1]), nil
}

func TestPasswordFromEnvironment(t *testing.T) {
	for _, v := range []string{"s3cret", ""} {
		ios, in, _, errOut := iostreams.Test()
		in.WriteString("from stdin")
		term := &fakeTerminal{answers: []string{"typed"}}
		pf := passwordFunc(envLookup(EnvPassword, v), ios, term.read)
		for _, confirm := range []bool{false, true} {
			got, err := pf(confirm)
			if err != nil || string(got) != v {
				t.Errorf("COSIGN_PASSWORD=%q: %q, %v", v, got, err)
			}
		}
		if term.reads != 0 || in.Len() == 0 || errOut.Len() != 0 {
			t.Errorf("COSIGN_PASSWORD=%q: terminal read %d times, stdin read, or stderr %q", v, term.reads, errOut)
		}
	}
}

func TestPasswordFromTerminal(t *testing.T) {
	ios, _, out, errOut := iostreams.Test()
	term := &fakeTerminal{answers: []string{"one", "one", "two", "three", "alone"}}
	pf := passwordFunc(envLookup(), ios, term.read)
	if got, err := pf(true); err != nil || string(got) != "one" {
		t.Errorf("confirmed: %q, %v", got, err)
	}
	if _, err := pf(true); err == nil || err.Error() != "passwords do not match" {
		t.Errorf("mismatch: %v", err)
	}
	if got, err := pf(false); err != nil || string(got) != "alone" {
		t.Errorf("unconfirmed: %q, %v", got, err)
	}
	want := strings.Repeat("Enter password for private key: \nEnter password for private key again: \n", 2) +
		"Enter password for private key: \n"
	if errOut.String() != want || out.Len() != 0 {
		t.Errorf("stderr %q, stdout %q", errOut, out)
	}
	if _, err := pf(false); err == nil || !strings.Contains(err.Error(), "reading the key password: no more input") {
		t.Errorf("terminal failure: %v", err)
	}
}

// Without COSIGN_PASSWORD or a terminal, stdin is the password, byte for
// byte, read once; empty stdin is an error.
func TestPasswordFromStdin(t *testing.T) {
	ios, in, _, errOut := iostreams.Test()
	in.WriteString("piped\n")
	pf := passwordFunc(envLookup(), ios, nil)
	for range 2 {
		got, err := pf(true)
		if err != nil || string(got) != "piped\n" {
			t.Errorf("%q, %v", got, err)
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr %q", errOut)
	}

	ios, _, _, _ = iostreams.Test()
	_, err := passwordFunc(envLookup(), ios, nil)(false)
	if err == nil || err.Error() != `no key password: set COSIGN_PASSWORD (COSIGN_PASSWORD="" for an empty one), pipe it on stdin, or run on a terminal to be asked` {
		t.Errorf("empty stdin: %v", err)
	}
	ios, in, _, _ = iostreams.Test()
	in.WriteString(strings.Repeat("x", maxPipedPassword+1))
	if _, err := passwordFunc(envLookup(), ios, nil)(false); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge stdin: %v", err)
	}
}

// PasswordFunc on buffers (not terminals) reads LookupEnv, or Getenv when
// a test factory has no LookupEnv.
func TestPasswordFuncFactory(t *testing.T) {
	ios, in, _, _ := iostreams.Test()
	in.WriteString("piped")
	ios.SetTTY(true, false, false) // claims a terminal, but a buffer has no descriptor
	f := &Factory{IOStreams: ios, LookupEnv: envLookup(EnvPassword, "")}
	if got, err := PasswordFunc(f)(false); err != nil || string(got) != "" {
		t.Errorf("LookupEnv: %q, %v", got, err)
	}
	f = &Factory{IOStreams: ios, Getenv: func(k string) string { return map[string]string{EnvPassword: "g"}[k] }}
	if got, err := PasswordFunc(f)(false); err != nil || string(got) != "g" {
		t.Errorf("Getenv: %q, %v", got, err)
	}
	f = &Factory{IOStreams: ios}
	if got, err := PasswordFunc(f)(false); err != nil || string(got) != "piped" {
		t.Errorf("stdin: %q, %v", got, err)
	}
}

func TestConfirmContinue(t *testing.T) {
	for _, c := range []struct {
		stdin string
		want  string // "" = continue
	}{
		{"y\n", ""}, {"Y\r\n", ""}, {"y", ""},
		{"", "user declined the prompt"}, {"\n", "user declined the prompt"}, {"n\n", "user declined the prompt"},
		{"N\nmore", "user declined the prompt"},
		{"hunter2\n", "invalid input (allowed values y, n)"},
	} {
		ios, in, out, errOut := iostreams.Test()
		in.WriteString(c.stdin)
		err := ConfirmContinue(ios)
		if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want) {
			t.Errorf("%q: %v, want %q", c.stdin, err, c.want)
		}
		if !strings.HasPrefix(errOut.String(), "Are you sure you would like to continue? [y/N] ") || out.Len() != 0 {
			t.Errorf("%q: stderr %q, stdout %q", c.stdin, errOut, out)
		}
		if strings.Contains(errOut.String(), "hunter2") {
			t.Errorf("the answer was echoed: %q", errOut)
		}
	}
}
