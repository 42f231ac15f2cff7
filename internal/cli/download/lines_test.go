package download

import (
	"strings"
	"testing"

	"github.com/signetdev/signet/pkg/oci"
)

func TestSignatureLine(t *testing.T) {
	l := oci.Layer{Data: []byte(`{"critical":{}}`), Annotations: map[string]string{
		oci.AnnotationSignature: "MEU=",
		oci.AnnotationBundle:    `{"SignedEntryTimestamp":"c2V0","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"ab"}}`,
	}}
	got, err := SignatureLine(l)
	want := `{"Base64Signature":"MEU=","Payload":"eyJjcml0aWNhbCI6e319","Cert":null,"Chain":null,"Bundle":{"SignedEntryTimestamp":"c2V0","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"ab"}},"RFC3161Timestamp":null}`
	if err != nil || string(got) != want {
		t.Fatalf("SignatureLine = %s, %v\nwant %s", got, err, want)
	}
	l.Annotations[oci.AnnotationCertificate] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	if _, err := SignatureLine(l); err == nil {
		t.Fatal("a broken certificate annotation was accepted")
	}
	l.Annotations[oci.AnnotationCertificate] = " "
	l.Annotations[oci.AnnotationTimestamp] = "{not json"
	if _, err := SignatureLine(l); err == nil || !strings.Contains(err.Error(), oci.AnnotationTimestamp) {
		t.Fatalf("invalid timestamp annotation: %v", err)
	}
}

func TestEnvelopeLine(t *testing.T) {
	got, err := EnvelopeLine([]byte(`{"signatures":[{"sig":"x","keyid":""}], "payload":"e30=","payloadType":"application/vnd.in-toto+json"}`))
	want := `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"x"}]}`
	if err != nil || string(got) != want {
		t.Fatalf("EnvelopeLine = %s, %v", got, err)
	}
}

func FuzzSignatureLine(f *testing.F) {
	f.Add([]byte("{}"), "MEU=", "", `{"SignedRFC3161Timestamp":"AA=="}`)
	f.Fuzz(func(t *testing.T, data []byte, sig, cert, ts string) {
		_, _ = SignatureLine(oci.Layer{Data: data, Annotations: map[string]string{
			oci.AnnotationSignature: sig, oci.AnnotationCertificate: cert, oci.AnnotationTimestamp: ts}})
	})
}

func FuzzEnvelopeLine(f *testing.F) {
	f.Add([]byte(`{"payloadType":"a","payload":"b","signatures":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if out, err := EnvelopeLine(b); err == nil {
			if again, err := EnvelopeLine(out); err != nil || string(again) != string(out) {
				t.Fatalf("not a fixed point: %s", out)
			}
		}
	})
}
