package imagesig

import (
	"testing"

	"github.com/signetdev/signet/pkg/oci"
)

// FuzzLegacyBundle feeds hostile layers and annotations to the conversion:
// it must fail cleanly, never panic, and never turn a simple-signing layer
// into a DSSE bundle.
func FuzzLegacyBundle(f *testing.F) {
	s := newTestSigstore(f)
	d := testDigest(f, "image")
	p, _ := NewSimpleSigning("registry.example/app", hashOf(d), nil)
	sig := s.legacySig(f, p)
	att := s.legacyAtt(f, statement(f, hashOf(d).Hex, customType, nil))
	for _, l := range []oci.Layer{sig, att} {
		a := l.Annotations
		f.Add(l.MediaType == oci.DSSEMediaType, l.Data, a[oci.AnnotationSignature], a[oci.AnnotationCertificate], a[oci.AnnotationChain], a[oci.AnnotationBundle], `{"SignedRFC3161Timestamp":"AAAA"}`)
	}
	f.Add(false, []byte("{}"), "   ", " \n", "", `{"SignedEntryTimestamp":"AA==","Payload":{"body":1}}`, "")
	f.Add(true, []byte(`{"payloadType":"x","payload":"","signatures":[{"sig":""}]}`), "", "", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----", "{}", "{")
	f.Fuzz(func(t *testing.T, dsse bool, data []byte, sigAnn, cert, chain, rekor, ts string) {
		mt := oci.SimpleSigningMediaType
		if dsse {
			mt = oci.DSSEMediaType
		}
		b, err := LegacyBundle(oci.Layer{MediaType: mt, Data: data, Annotations: map[string]string{
			oci.AnnotationSignature: sigAnn, oci.AnnotationCertificate: cert, oci.AnnotationChain: chain,
			oci.AnnotationBundle: rekor, oci.AnnotationTimestamp: ts,
		}})
		if err != nil {
			return
		}
		if !dsse && b.GetDsseEnvelope() != nil {
			t.Fatal("a simple-signing layer became a DSSE bundle")
		}
		if dsse && b.GetDsseEnvelope() == nil {
			t.Fatal("a DSSE layer became a message signature")
		}
	})
}

// FuzzReferrerBundle: a referrer's bundle layer is parsed without panics.
func FuzzReferrerBundle(f *testing.F) {
	s := newTestSigstore(f)
	r := s.bundleReferrer(f, statement(f, hashOf(testDigest(f, "image")).Hex, SignPredicateType, nil), SignPredicateType)
	f.Add(r.Layers[0].Data)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReferrerBundle(oci.Layer{MediaType: oci.BundleMediaType, Data: data}, false)
	})
}
