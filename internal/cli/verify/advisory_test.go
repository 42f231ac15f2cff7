package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/oci"
)

// attLayer is an .att layer: an in-toto statement about d of
// predicateType, in a DSSE envelope signed with key.
func attLayer(t *testing.T, key *ecdsa.PrivateKey, d name.Digest, predicateType string) oci.Layer {
	t.Helper()
	hash, err := hashOf(d)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": d.Context().Name(), "digest": map[string]string{"sha256": hash.Hex}}},
		"predicateType": predicateType, "predicate": map[string]any{},
	})
	const pt = "application/vnd.in-toto+json"
	pae := append([]byte("DSSEv1 "+strconv.Itoa(len(pt))+" "+pt+" "+strconv.Itoa(len(st))+" "), st...)
	sum := sha256.Sum256(pae)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	env, _ := json.Marshal(map[string]any{"payloadType": pt, "payload": st, "signatures": []map[string]any{{"keyid": "", "sig": sig}}})
	return oci.Layer{MediaType: oci.DSSEMediaType, Data: env, Annotations: map[string]string{oci.AnnotationSignature: ""}}
}

// GHSA-fgw4-v983-mgp8 (gh attestation 2.67.0): with attestations of other
// types only, the command exited 0. verify-attestation on an image with
// only a vuln attestation exits 12 for any other --type (the default,
// custom, included), asserted on the exit code; --type vuln exits 0.
func TestAdvisory_GHSA_fgw4_v983_mgp8_ImageZeroMatchingExitCode(t *testing.T) {
	host := regtest.Registry(t, false)
	img := pushImage(t, host, "app")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	client := oci.New(oci.Options{Transport: http.DefaultTransport})
	if err := client.AppendLegacy(context.Background(), img, oci.AttestationSuffix, attLayer(t, key, img, "https://cosign.sigstore.dev/attestation/vuln/v1"), nil); err != nil {
		t.Fatal(err)
	}
	opts := clitest.Options{Transport: http.DefaultTransport}
	base := []string{"verify-attestation", "--insecure-ignore-tlog", "--key", writeKey(t, key)}
	if r := clitest.Run(t, opts, append(base, "--type", "vuln", img.String())...); r.Code != 0 {
		t.Fatalf("--type vuln: exit %d: %s", r.Code, r.Stderr)
	}
	for _, typ := range [][]string{{"--type", "slsaprovenance1"}, {"--type", "spdx"}, nil} {
		r := clitest.Run(t, opts, append(append(base, typ...), img.String())...)
		if r.Code != 12 {
			t.Errorf("%v: exit %d, want 12: %s", typ, r.Code, r.Stderr)
		}
		if strings.TrimSpace(r.Stdout) != "" {
			t.Errorf("%v: printed %q", typ, r.Stdout)
		}
	}
}

// GHSA-vfp6-jrw2-99g9 (cosign 2.2.1) through the CLI and a registry: 100
// signatures verify, 101 are refused with one line naming the limit.
func TestAdvisory_GHSA_vfp6_jrw2_99g9_ImageSignatureCap(t *testing.T) {
	host := regtest.Registry(t, false)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	opts := clitest.Options{Transport: http.DefaultTransport}
	for _, n := range []int{100, 101} {
		img := pushImage(t, host, "app"+strconv.Itoa(n))
		// The .sig image written at once (appending 101 times takes long).
		var adds []mutate.Addendum
		for i := 0; i < n; i++ {
			l := keySigLayer(t, key, img, map[string]string{"n": strconv.Itoa(i)})
			adds = append(adds, mutate.Addendum{Layer: static.NewLayer(l.Data, types.MediaType(l.MediaType)), Annotations: l.Annotations})
		}
		sigImg, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), adds...)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(img.Context().Tag(strings.Replace(img.DigestStr(), ":", "-", 1)+oci.SignatureSuffix), sigImg); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		r := clitest.Run(t, opts, "verify", "--insecure-ignore-tlog", "--key", writeKey(t, key), img.String())
		t.Logf("%d: verify took %v", n, time.Since(start))
		if n == 100 && r.Code != 0 {
			t.Errorf("100 signatures: exit %d: %s", r.Code, r.Stderr)
		}
		if n == 101 {
			r.CheckErrorLine(t)
			if !strings.Contains(r.ErrLine(), "more than the limit of 100") {
				t.Errorf("101 signatures: %s", r.ErrLine())
			}
		}
	}
}
