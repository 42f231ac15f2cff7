package keys

import (
	"strings"
	"testing"
)

// FuzzKeyRef: any --key reference is classified without a panic, and
// consistently: a KMS reference has a scheme, a path (no "://", or a
// separator before it) is never a KMS reference, and env:// reads only
// the variable it names.
func FuzzKeyRef(f *testing.F) {
	for _, s := range []string{
		"cosign.pub", "env://COSIGN_KEY", "awskms:///arn:aws:kms:us-east-1:1:key/x", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
		"hashivault://transit", "azurekms://vault.vault.azure.net/key", "k8s://ns/secret", "pkcs11:token=x", "dir/a://b", "://x", "env://",
		"file:///etc/passwd", "https://example.com/key.pub", `c:\keys\a://b`, "plugin-scheme://x/y?z#w",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		scheme := refScheme(ref)
		kms := IsKMSRef(ref)
		if kms && scheme == "" {
			t.Fatalf("%q: KMS without a scheme", ref)
		}
		if !strings.Contains(ref, "://") && (kms || scheme != "") {
			t.Fatalf("%q: a path taken for a scheme %q", ref, scheme)
		}
		if strings.ContainsAny(scheme, `/\`) {
			t.Fatalf("%q: scheme %q holds a separator", ref, scheme)
		}
		_ = checkSupportedRef(ref)
		if name, ok := strings.CutPrefix(ref, EnvPrefix); ok {
			asked := ""
			data, err := ReadRef(ref, func(k string) string { asked = k; return "v" })
			if asked != name || (err == nil && string(data) != "v") {
				t.Fatalf("%q: read variable %q, got %q %v", ref, asked, data, err)
			}
		}
	})
}
