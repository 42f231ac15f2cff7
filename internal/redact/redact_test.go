package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestRef(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"pkcs11:token=signet-test;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
			"pkcs11:token=signet-test;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=REDACTED"},
		{"pkcs11:pin-value=99;token=t", "pkcs11:pin-value=REDACTED;token=t"},
		{"PKCS11:token=t;PIN-VALUE=s3cret", "PKCS11:token=t;PIN-VALUE=REDACTED"},
		// token= is a PKCS#11 token label, not a secret.
		{"pkcs11:token=1234;id=%01", "pkcs11:token=1234;id=%01"},
		{"https://user:hunter2@registry.example/v2/", "https://user:REDACTED@registry.example/v2/"},
		{"https://ci:tok@en@host/x", "https://ci:REDACTED@host/x"},
		{"oauth2:glpat-xyz@registry.gitlab.example/group/app:1.0", "oauth2:REDACTED@registry.gitlab.example/group/app:1.0"},
		{"https://rekor.example/api?token=abc&x=1", "https://rekor.example/api?token=REDACTED&x=1"},
		{"https://h/p?password=pw#frag", "https://h/p?password=REDACTED#frag"},
		// Nothing secret: unchanged.
		{"awskms:///alias/signet", "awskms:///alias/signet"},
		{"hashivault://transit-key", "hashivault://transit-key"},
		{"ubuntu:22.04@sha256:0123abcd", "ubuntu:22.04@sha256:0123abcd"},
		{"registry.example/app@sha256:0123", "registry.example/app@sha256:0123"},
		{"git@github.com:owner/repo", "git@github.com:owner/repo"},
		{"cosign.key", "cosign.key"},
		{"https://u@host/", "https://u@host/"},
		{"pkcs11:token=t?pin-value=", "pkcs11:token=t?pin-value="},
		{"", ""},
	} {
		if got := Ref(c.in); got != c.want {
			t.Errorf("Ref(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestError(t *testing.T) {
	ref := "pkcs11:token=t;object=k?pin-value=8642"
	inner := fmt.Errorf("opening %s: %w", ref, fs.ErrNotExist)
	err := Error(inner, ref)
	if strings.Contains(err.Error(), "8642") || !strings.Contains(err.Error(), "pin-value="+Marker) {
		t.Errorf("Error: %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("redacted error lost its chain")
	}
	plain := errors.New("no secrets here")
	if Error(plain, "cosign.key") != plain || Error(nil, ref) != nil {
		t.Error("Error changed an error without secrets")
	}
}

func FuzzRef(f *testing.F) {
	f.Add("pkcs11:token=t;object=k?module-path=/m.so&pin-value=1234")
	f.Add("https://u:p@h/x?token=t")
	f.Fuzz(func(t *testing.T, s string) {
		out := Ref(s)
		if again := Ref(out); again != out {
			t.Errorf("Ref is not idempotent: %q → %q → %q", s, out, again)
		}
		if len(out) > len(s)+len(Secrets(s))*len(Marker) {
			t.Errorf("Ref(%q) = %q grew more than its markers", s, out)
		}
		if len(Secrets(s)) == 0 && out != s {
			t.Errorf("Ref(%q) = %q changed a string without secrets", s, out)
		}
	})
}
