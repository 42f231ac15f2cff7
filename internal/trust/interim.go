// Package trust finds the trust material to verify with. This file is an
// interim subset (--trusted-root only) that the TUF-backed implementation
// replaces; its API is the one callers use.
package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// Options say where trust material comes from.
type Options struct {
	TrustedRootPath string
	Offline         bool
	Getenv          func(string) string
	HomeDir         string
	Transport       http.RoundTripper
	Warn            io.Writer
	Now             func() time.Time
}

// Load returns the trusted root to verify with.
func Load(_ context.Context, opts Options) (*root.TrustedRoot, error) {
	if opts.TrustedRootPath == "" {
		return nil, errors.New("no trusted root: pass --trusted-root")
	}
	tr, err := root.NewTrustedRootFromPath(opts.TrustedRootPath)
	if err != nil {
		return nil, fmt.Errorf("loading trusted root %q: %w", opts.TrustedRootPath, err)
	}
	return tr, nil
}

// Material is Load plus the SIGSTORE_* custom-instance overrides.
func Material(ctx context.Context, opts Options) (root.TrustedMaterial, error) {
	return Load(ctx, opts)
}

type caOverride struct {
	root.TrustedMaterial
	cas []root.CertificateAuthority
}

func (o caOverride) FulcioCertificateAuthorities() []root.CertificateAuthority { return o.cas }

// WithCertificateAuthority replaces base's Fulcio CAs with one CA.
func WithCertificateAuthority(base root.TrustedMaterial, roots, intermediates []*x509.Certificate) root.TrustedMaterial {
	var cas []root.CertificateAuthority
	for _, r := range roots {
		cas = append(cas, &root.FulcioCertificateAuthority{Root: r, Intermediates: intermediates})
	}
	return caOverride{TrustedMaterial: base, cas: cas}
}

type tsaOverride struct {
	root.TrustedMaterial
	tsas []root.TimestampingAuthority
}

func (o tsaOverride) TimestampingAuthorities() []root.TimestampingAuthority { return o.tsas }

// WithTimestampAuthority replaces base's TSAs with the one whose chain is
// given, root last.
func WithTimestampAuthority(base root.TrustedMaterial, chain []*x509.Certificate) root.TrustedMaterial {
	if len(chain) == 0 {
		return base
	}
	tsa := &root.SigstoreTimestampingAuthority{Root: chain[len(chain)-1]}
	if len(chain) > 1 {
		tsa.Leaf = chain[0]
		tsa.Intermediates = chain[1 : len(chain)-1]
	}
	return tsaOverride{TrustedMaterial: base, tsas: []root.TimestampingAuthority{tsa}}
}
