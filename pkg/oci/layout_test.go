package oci

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// TestLayoutRoundTrip: save writes cosign's kinds; the layout reads the
// same signatures as the registry; load pushes everything back.
func TestLayoutRoundTrip(t *testing.T) {
	reg := newFakeRegistry(t, false)
	img := reg.pushImage("app", "v1")
	c := reg.client(Options{})
	ctx := context.Background()
	sig := Layer{MediaType: SimpleSigningMediaType, Data: []byte(`{"s":1}`), Annotations: map[string]string{AnnotationSignature: "c2ln"}}
	att := Layer{MediaType: DSSEMediaType, Data: []byte(`{"a":1}`), Annotations: map[string]string{AnnotationPredicateType: "x"}}
	if err := c.AppendLegacy(ctx, img.Digest, SignatureSuffix, sig, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.AppendLegacy(ctx, img.Digest, AttestationSuffix, att, nil); err != nil {
		t.Fatal(err)
	}
	rh, err := c.WriteReferrer(ctx, img, BundleMediaType, []Layer{{MediaType: BundleMediaType, Data: []byte(`{"b":1}`)}}, map[string]string{AnnotationBundleContent: "dsse-envelope"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "saved")
	if err := SaveLayout(ctx, c, img, dir); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	var idx struct {
		Manifests []struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	json.Unmarshal(raw, &idx)
	kinds := map[string]int{}
	for _, m := range idx.Manifests {
		kinds[m.Annotations[KindAnnotation]]++
	}
	if kinds[KindImage] != 1 || kinds[KindSignatures] != 1 || kinds[KindAttestations] != 1 || kinds[KindReferrer] != 1 {
		t.Fatalf("index.json kinds %v", kinds)
	}

	l, err := OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	var store Store = l
	sigs, err := store.ReadLegacy(ctx, img.Digest, SignatureSuffix)
	if err != nil || len(sigs) != 1 || string(sigs[0].Data) != `{"s":1}` || sigs[0].Annotations[AnnotationSignature] != "c2ln" {
		t.Errorf("layout sigs: %+v %v", sigs, err)
	}
	atts, err := store.ReadLegacy(ctx, img.Digest, AttestationSuffix)
	if err != nil || len(atts) != 1 || atts[0].MediaType != DSSEMediaType {
		t.Errorf("layout atts: %+v %v", atts, err)
	}
	rs, err := store.Referrers(ctx, img.Digest, BundleMediaType)
	if err != nil || len(rs) != 1 || rs[0].Descriptor.Digest != rh || string(rs[0].Layers[0].Data) != `{"b":1}` {
		t.Errorf("layout referrers: %+v %v", rs, err)
	}
	other, _ := name.NewDigest(img.Digest.Context().String() + "@sha256:" + "0000000000000000000000000000000000000000000000000000000000000000")
	if _, err := store.ReadLegacy(ctx, other, SignatureSuffix); err == nil {
		t.Error("layout answered for another digest")
	}

	// A layout layer over the limit is refused.
	if _, err := l.WithMaxAttachmentSize(3).ReadLegacy(ctx, img.Digest, SignatureSuffix); !errors.Is(err, ErrTooLarge) {
		t.Errorf("layout cap: %v", err)
	}

	dst, _ := name.ParseReference(reg.host + "/copy:v1")
	got, err := LoadLayout(ctx, c, dir, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got.Descriptor.Digest != img.Descriptor.Digest {
		t.Errorf("loaded %s, want %s", got.Descriptor.Digest, img.Descriptor.Digest)
	}
	if s, err := c.ReadLegacy(ctx, got.Digest, SignatureSuffix); err != nil || len(s) != 1 {
		t.Errorf("loaded sigs: %v %v", s, err)
	}
	if r, err := c.Referrers(ctx, got.Digest, BundleMediaType); err != nil || len(r) != 1 || r[0].Descriptor.Digest != rh {
		t.Errorf("loaded referrers: %v %v", r, err)
	}
}
