package sign_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/sign"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/keys"
)

func TestArgvToOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *sign.Options
	cmd := sign.NewCmdSign(cli.NewFactory(ios), func(_ context.Context, o *sign.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--yes", "-a", "k=v", "-a", "x=y", "-r", "--upload=false", "--new-bundle-format=false",
		"--registry-referrers-mode", "oci-1-1", "--allow-http-registry", "--key", "cosign.key", "img1", "img2"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.Signer.Signing.Yes || len(got.Annotations) != 2 || !got.Recursive || got.Upload || got.NewBundleFormat ||
		got.Registry.ReferrersMode != "oci-1-1" || !got.Registry.AllowHTTP || got.Signer.Key != "cosign.key" || len(got.Images) != 2 {
		t.Fatalf("options: %+v", got)
	}
}

// fixture is a registry with one random image and a cosign key pair.
type fixture struct {
	host, key, pub string
	digest         name.Digest
	env            clitest.Env
}

func newFixture(t *testing.T, referrers bool) fixture {
	t.Helper()
	host := regtest.Registry(t, referrers)
	_, d := regtest.PushRandom(t, host, "app")
	key, pub := regtest.KeyPair(t, t.TempDir(), "cosign")
	return fixture{host: host, key: key, pub: pub, digest: d, env: clitest.Env{"COSIGN_PASSWORD": ""}}
}

func (fx fixture) sign(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	base := []string{"sign", "--yes", "--key", fx.key, "--use-signing-config=false", "--tlog-upload=false"}
	return clitest.Run(t, clitest.Options{Env: fx.env, Transport: http.DefaultTransport}, append(base, args...)...)
}

// TestSignBundleReferrer: the default stores cosign v3's sign statement,
// for this digest, as a bundle referrer of the image; the key verifies it.
func TestSignBundleReferrer(t *testing.T) {
	for _, referrers := range []bool{true, false} {
		fx := newFixture(t, referrers)
		r := fx.sign(t, "-a", "team=blue", fx.host+"/app:v1")
		if r.Code != 0 {
			t.Fatalf("sign failed: %s", r.Stderr)
		}
		if !strings.Contains(r.Stderr, "uses a tag, not a digest") || !strings.Contains(r.Stderr, "Pushing signature to: "+fx.host+"/app") {
			t.Errorf("stderr lacks the tag warning or the push line:\n%s", r.Stderr)
		}
		idx, err := remote.Referrers(fx.digest)
		if err != nil {
			t.Fatal(err)
		}
		im, _ := idx.IndexManifest()
		if len(im.Manifests) != 1 {
			t.Fatalf("referrers (API %v): %+v", referrers, im.Manifests)
		}
		art, err := remote.Image(fx.digest.Context().Digest(im.Manifests[0].Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := art.Manifest()
		if m.ArtifactType != "application/vnd.dev.sigstore.bundle.v0.3+json" || m.Config.ArtifactType != m.ArtifactType || m.Subject == nil || m.Subject.Digest.String() != fx.digest.DigestStr() ||
			m.Annotations["dev.sigstore.bundle.predicateType"] != imagesig.SignPredicateType ||
			m.Annotations["dev.sigstore.bundle.content"] != "dsse-envelope" {
			t.Fatalf("referrer manifest: %+v", m)
		}
		layers, _ := art.Layers()
		rc, _ := layers[0].Compressed()
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		var b bundle.Bundle
		if err := b.UnmarshalJSON(buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		var st struct {
			Subject []struct {
				Digest      map[string]string
				Annotations map[string]string
			}
			PredicateType string
		}
		if err := json.Unmarshal(b.GetDsseEnvelope().GetPayload(), &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Subject) != 1 || "sha256:"+st.Subject[0].Digest["sha256"] != fx.digest.DigestStr() || st.Subject[0].Annotations["team"] != "blue" {
			t.Fatalf("statement: %+v", st)
		}
		checkSig(t, fx.pub, dssePAE(b.GetDsseEnvelope().GetPayloadType(), b.GetDsseEnvelope().GetPayload()), b.GetDsseEnvelope().GetSignatures()[0].GetSig())
	}
}

// TestSignLegacy: --new-bundle-format=false appends a simple-signing layer
// to sha256-<hex>.sig; a second signature is appended, not replacing it.
func TestSignLegacy(t *testing.T) {
	fx := newFixture(t, false)
	for i := 0; i < 2; i++ {
		if r := fx.sign(t, "--new-bundle-format=false", "-a", "n="+string(rune('0'+i)), fx.digest.String()); r.Code != 0 {
			t.Fatalf("sign failed: %s", r.Stderr)
		}
	}
	tag := fx.digest.Context().Tag(strings.Replace(fx.digest.DigestStr(), ":", "-", 1) + ".sig")
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	if len(m.Layers) != 2 {
		t.Fatalf("%d layers, want 2", len(m.Layers))
	}
	layers, _ := img.Layers()
	for i, l := range layers {
		rc, _ := l.Compressed()
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		p, err := imagesig.ParseSimpleSigning(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if p.Critical.Image.DockerManifestDigest != fx.digest.DigestStr() || p.Critical.Identity.DockerReference != fx.host+"/app" {
			t.Errorf("payload %d: %+v", i, p.Critical)
		}
		if m.Layers[i].MediaType != "application/vnd.dev.cosign.simplesigning.v1+json" {
			t.Errorf("layer %d media type %s", i, m.Layers[i].MediaType)
		}
		sig, err := base64.StdEncoding.DecodeString(m.Layers[i].Annotations["dev.cosignproject.cosign/signature"])
		if err != nil {
			t.Fatal(err)
		}
		checkSig(t, fx.pub, buf.Bytes(), sig)
	}
}

// TestSignRefusals: a missing image is exit 11 before any key use; legacy
// signatures refuse what they cannot hold.
func TestSignRefusals(t *testing.T) {
	fx := newFixture(t, false)
	r := fx.sign(t, fx.host+"/app:missing")
	if r.Code != 11 {
		t.Errorf("missing tag: exit %d, want 11: %s", r.Code, r.Stderr)
	}
	r.CheckErrorLine(t)
	r = fx.sign(t, "--payload", "p.json", fx.digest.String())
	if r.Code == 0 || !strings.Contains(r.ErrLine(), "--new-bundle-format=false") {
		t.Errorf("--payload with bundles: %s", r.Stderr)
	}
	// Both name the same digest: one target, one bundle file.
	out := filepath.Join(t.TempDir(), "b.json")
	r = fx.sign(t, "--bundle", out, fx.digest.String(), fx.host+"/app:v1")
	if r.Code != 0 {
		t.Errorf("same image twice: %s", r.Stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("--bundle not written: %v", err)
	}
}

func dssePAE(typ string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(typ)) + " " + typ + " " + strconv.Itoa(len(body)) + " ")
	b.Write(body)
	return b.Bytes()
}

func checkSig(t *testing.T, pubPath string, msg, sig []byte) {
	t.Helper()
	v, err := keys.LoadVerifier(pubPath, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Errorf("signature does not verify with the key: %v", err)
	}
}

// TestSignManyImages: one run signs an index (-r: and its three images)
// and another image, concurrently, each signature stored for its own
// digest.
func TestSignManyImages(t *testing.T) {
	fx := newFixture(t, true)
	tag, index, children := regtest.PushRandomIndex(t, fx.host, "multi", 3)
	want := append([]name.Digest{index, fx.digest}, children...)
	r := fx.sign(t, "-r", tag.String(), fx.digest.String())
	if r.Code != 0 {
		t.Fatalf("sign: %s", r.Stderr)
	}
	if n := strings.Count(r.Stderr, "Pushing signature to: "); n != len(want) {
		t.Errorf("%d push lines, want %d:\n%s", n, len(want), r.Stderr)
	}
	for _, d := range want {
		refs, err := remote.Referrers(d)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := refs.IndexManifest(); len(m.Manifests) != 1 {
			t.Errorf("%s: %d referrers, want 1", d, len(m.Manifests))
		}
	}
}

// rekorUnreachable sends registry requests to the in-process registry and
// fails those to rekor.test as an unknown host does (at once, not retried).
type rekorUnreachable struct{}

func (rekorUnreachable) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() == "rekor.test" {
		return nil, &net.DNSError{Err: "no such host", Name: "rekor.test", IsNotFound: true}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestManyImagesOneCause: six images and an unreachable Rekor: the error
// says the cause once and names three images, not six copies of it.
func TestManyImagesOneCause(t *testing.T) {
	fx := newFixture(t, true)
	tag, _, _ := regtest.PushRandomIndex(t, fx.host, "multi", 5)
	r := clitest.Run(t, clitest.Options{Env: fx.env, Transport: rekorUnreachable{}},
		"sign", "--yes", "--key", fx.key, "--use-signing-config=false", "--rekor-url", "http://rekor.test", "-r", tag.String())
	r.CheckErrorLine(t)
	line := r.ErrLine()
	if !strings.HasPrefix(line, "Error: 6 of 6 images failed: signing <image>: recording the signature in Rekor at http://rekor.test: ") ||
		!strings.HasSuffix(line, " and 3 more)") || strings.Count(line, "no such host") != 1 || strings.Count(line, fx.host+"/multi@sha256:") != 3 {
		t.Errorf("error line:\n%s", line)
	}
}
