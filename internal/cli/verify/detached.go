package verify

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/httpx"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/rekorlookup"
)

// maxPayload bounds --payload (a simple-signing payload is a few hundred
// bytes).
const maxPayload = 4 << 20

// detachedSource serves one signature given on the command line in place
// of the registry's: the image's legacy .sig layer, and no referrers.
type detachedSource struct{ layer oci.Layer }

func (s detachedSource) ReadLegacy(_ context.Context, _ name.Digest, suffix string) ([]oci.Layer, error) {
	if suffix != oci.SignatureSuffix {
		return nil, nil
	}
	return []oci.Layer{s.layer}, nil
}

func (detachedSource) Referrers(context.Context, name.Digest, string) ([]oci.Referrer, error) {
	return nil, nil
}

// detachedLayer builds the signature layer from cosign's deprecated
// detached inputs: --signature (file, URL or base64), --payload (file or
// URL; default: the simple-signing payload of the image), --certificate;
// the CAs of --certificate-chain go to the trust material. Without
// --insecure-ignore-tlog its Rekor entry is looked up online, as cosign
// does, by the payload's SHA-256.
func detachedLayer(ctx context.Context, f *cli.Factory, o *Options, d name.Digest, payloadFor func() ([]byte, error)) (oci.Layer, error) {
	if o.Signature == "" {
		return oci.Layer{}, errors.New("--payload needs --signature: the signature over the payload")
	}
	sig, err := flags.ReadSignature(ctx, f, o.Signature)
	if err != nil {
		return oci.Layer{}, err
	}
	var payload []byte
	if o.Payload != "" {
		if payload, err = flags.ReadRef(ctx, f, "--payload", o.Payload, maxPayload); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				err = fmt.Errorf("--payload %s: %w", o.Payload, err)
			}
			return oci.Layer{}, err
		}
	} else if payload, err = payloadFor(); err != nil {
		return oci.Layer{}, err
	}
	l := oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: map[string]string{
		oci.AnnotationSignature: base64.StdEncoding.EncodeToString(sig),
	}}
	if o.Certificate != "" {
		certs, err := flags.ReadCertificates("--certificate", o.Certificate)
		if err != nil {
			return oci.Layer{}, err
		}
		l.Annotations[oci.AnnotationCertificate] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Raw}))
	}
	if o.Verify.IgnoreTlog || o.Verify.PrivateInfrastructure {
		return l, nil
	}
	sum := sha256.Sum256(payload)
	rc := &rekorlookup.Client{BaseURL: o.RekorURL, HTTP: &http.Client{Transport: httpx.NewRetry(f.Transport)}}
	found, err := rc.ByArtifactHash(ctx, hex.EncodeToString(sum[:]))
	if err == nil {
		if found = rekorlookup.WithSignature(found, sig); len(found) == 0 {
			err = rekorlookup.ErrNotFound
		}
	}
	if err != nil {
		return oci.Layer{}, fmt.Errorf("--signature for %s: looking the signature up in the Rekor log %s (--rekor-url) failed: %w; pass --insecure-ignore-tlog to verify without the log", d, o.RekorURL, err)
	}
	rb, err := rekorlookup.LegacyBundleJSON(found[0])
	if err != nil {
		return oci.Layer{}, err
	}
	l.Annotations[oci.AnnotationBundle] = string(rb)
	return l, nil
}

// simpleSigningFor is the payload cosign signs for d, when --payload is
// not given.
func simpleSigningFor(d name.Digest) func() ([]byte, error) {
	return func() ([]byte, error) {
		h, err := v1.NewHash(d.DigestStr())
		if err != nil {
			return nil, err
		}
		return imagesig.NewSimpleSigning(d.Context().Name(), h, nil)
	}
}
