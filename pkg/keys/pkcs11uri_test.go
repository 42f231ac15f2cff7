package keys

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePKCS11URI(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	u, err := ParsePKCS11URI("pkcs11:token=signet%20test;slot-id=7;id=%01%02;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if u.Token != "signet test" || u.SlotID == nil || *u.SlotID != 7 || !bytes.Equal(u.ID, []byte{1, 2}) || u.Object != "k" ||
		u.ModulePath != "/usr/lib/softhsm/libsofthsm2.so" || u.PIN != "1234" {
		t.Errorf("parsed %+v", u)
	}
	env["COSIGN_PKCS11_MODULE_PATH"] = "/m.so"
	env["COSIGN_PKCS11_PIN"] = "9999"
	u, err = ParsePKCS11URI("pkcs11:token=t;id=%01", getenv)
	if err != nil || u.ModulePath != "/m.so" || u.PIN != "9999" {
		t.Errorf("from the environment: %+v, %v", u, err)
	}
	for in, want := range map[string]string{
		"pkcs11:id=%01":                          "token= or slot-id=",
		"pkcs11:token=t":                         "id= or object=",
		"pkcs11:token=t;id=%01?module-path=m.so": "must be absolute",
		"pkcs11:token=t;slot-id=x;id=%01":        "not a number",
		"pkcs11:token=t;id=%zz":                  "attribute id",
		"pkcs11:token":                           "no value",
	} {
		if _, err := ParsePKCS11URI(in, getenv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", in, err, want)
		}
	}
	delete(env, "COSIGN_PKCS11_MODULE_PATH")
	if _, err := ParsePKCS11URI("pkcs11:token=t;id=%01", getenv); err == nil || !strings.Contains(err.Error(), "COSIGN_PKCS11_MODULE_PATH") {
		t.Errorf("no module: %v", err)
	}
}

func TestKeyURI(t *testing.T) {
	got := KeyURI("signet-test", 405438432, []byte{1, 0x4a}, "cosign-ec", "/usr/lib/softhsm/libsofthsm2.so")
	want := "pkcs11:token=signet-test;slot-id=405438432;id=%01%4a;object=cosign-ec?module-path=/usr/lib/softhsm/libsofthsm2.so"
	if got != want {
		t.Errorf("KeyURI = %q, want %q", got, want)
	}
	u, err := ParsePKCS11URI(got, nil)
	if err != nil || u.Object != "cosign-ec" || !bytes.Equal(u.ID, []byte{1, 0x4a}) {
		t.Errorf("KeyURI does not parse back: %+v %v", u, err)
	}
}

func FuzzParsePKCS11URI(f *testing.F) {
	f.Add("pkcs11:token=t;slot-id=1;id=%01;object=k?module-path=/m.so&pin-value=1")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParsePKCS11URI(s, func(string) string { return "" })
	})
}
