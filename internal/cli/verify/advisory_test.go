package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
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

// GHSA-pf56-329r-95rw (@sigstore/oci 0.7.1): Docker-config credentials
// were chosen by substring, so creds for ghcr.io went to cr.io. A
// registry that asks for basic auth receives credentials only from an
// entry for exactly its host:port (go-containerregistry's keychain,
// docker's matching); entries for a longer name containing it, for the
// host without the port, or for another port send nothing.
func TestAdvisory_GHSA_pf56_329r_95rw_DockerConfigExactHost(t *testing.T) {
	var authSeen atomic.Value
	authSeen.Store("")
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			authSeen.Store(a)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	hostname, port, _ := net.SplitHostPort(host)
	img, _ := random.Image(64, 1)
	tag, _ := name.NewTag(host + "/app:v1")
	if err := remote.Write(tag, img, remote.WithAuth(&authn.Basic{Username: "u", Password: "p"})); err != nil {
		t.Fatal(err)
	}
	h, _ := img.Digest()
	ref := tag.Context().Digest(h.String()).String()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := writeKey(t, key)
	cred := base64.StdEncoding.EncodeToString([]byte("u:p"))
	for _, tc := range []struct {
		entry string
		sent  bool
	}{
		{"x" + host, false},
		{"ghcr." + host, false},
		{hostname, false},
		{hostname + ":1" + port, false},
		{host, true},
	} {
		t.Run(tc.entry, func(t *testing.T) {
			authSeen.Store("")
			dir := t.TempDir()
			cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{tc.entry: map[string]string{"auth": cred}}})
			if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("DOCKER_CONFIG", dir)
			r := clitest.Run(t, clitest.Options{Transport: http.DefaultTransport}, "verify", "--key", pub, "--insecure-ignore-tlog", ref)
			got := authSeen.Load().(string) != ""
			if got != tc.sent {
				t.Errorf("entry %q: credentials sent=%v, want %v (exit %d: %s)", tc.entry, got, tc.sent, r.Code, r.ErrLine())
			}
		})
	}
}
