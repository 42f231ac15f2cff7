package signer

import (
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// Services are where a signature's evidence comes from.
type Services struct {
	// FulcioURL issues the certificate of a keyless signature.
	FulcioURL string
	// OIDCIssuer is where an interactive flow gets the identity token.
	OIDCIssuer string
	// Rekor logs record the signature; none means no log entry.
	Rekor []Rekor
	// TSAs are RFC 3161 timestamp authority URLs (full, with path).
	TSAs []string
}

// Rekor is one transparency log.
type Rekor struct {
	URL string
	// Version is the Rekor API major version: 1 or 2.
	Version uint32
}

// Versions signet speaks, as the signing config names them.
var (
	fulcioVersions = []uint32{1}
	oidcVersions   = []uint32{1}
	rekorVersions  = []uint32{1, 2}
	tsaVersions    = []uint32{1}
)

// FromSigningConfig selects the services a signing config names for now,
// as its selectors say (sigstore-go's selection rules).
func FromSigningConfig(sc *root.SigningConfig, now time.Time) (Services, error) {
	var s Services
	if len(sc.FulcioCertificateAuthorityURLs()) > 0 {
		f, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), fulcioVersions, now)
		if err != nil {
			return s, fmt.Errorf("signing config: Fulcio: %w", err)
		}
		s.FulcioURL = f.URL
	}
	if len(sc.OIDCProviderURLs()) > 0 {
		o, err := root.SelectService(sc.OIDCProviderURLs(), oidcVersions, now)
		if err != nil {
			return s, fmt.Errorf("signing config: OIDC issuer: %w", err)
		}
		s.OIDCIssuer = o.URL
	}
	if len(sc.RekorLogURLs()) > 0 {
		logs, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), rekorVersions, now)
		if err != nil {
			return s, fmt.Errorf("signing config: Rekor: %w", err)
		}
		for _, l := range logs {
			s.Rekor = append(s.Rekor, Rekor{URL: l.URL, Version: l.MajorAPIVersion})
		}
	}
	if len(sc.TimestampAuthorityURLs()) > 0 {
		tsas, err := root.SelectServices(sc.TimestampAuthorityURLs(), sc.TimestampAuthorityURLsConfig(), tsaVersions, now)
		if err != nil {
			return s, fmt.Errorf("signing config: timestamp authority: %w", err)
		}
		for _, t := range tsas {
			s.TSAs = append(s.TSAs, t.URL)
		}
	}
	return s, nil
}

// validate rejects combinations that cannot produce a verifiable bundle.
func (s Services) validate(keyless bool) error {
	if keyless && s.FulcioURL == "" {
		return errors.New("keyless signing needs a Fulcio URL (from the signing config or --fulcio-url)")
	}
	for _, r := range s.Rekor {
		if r.Version != 1 && r.Version != 2 {
			return fmt.Errorf("Rekor %s: API version %d is not supported (1 or 2)", r.URL, r.Version)
		}
		// A Rekor v2 entry carries no signed time: only a timestamp can
		// date the signature.
		if r.Version == 2 && len(s.TSAs) == 0 {
			return fmt.Errorf("Rekor v2 (%s) needs a timestamp authority: its entries carry no signed time", r.URL)
		}
	}
	return nil
}
