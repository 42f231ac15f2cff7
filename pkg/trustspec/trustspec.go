// Package trustspec parses cosign's service specifications — the
// comma-separated key=value lists of `trusted-root create` and
// `signing-config create` — into sigstore-go's trusted root and signing
// config parts. Certificates and keys are read from the paths a spec names.
package trustspec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/fileutil"
)

// maxFile bounds the PEM files a spec names (chains and keys are a few KiB).
const maxFile = 4 << 20

// KV splits "k=v,k=v". Keys and values are trimmed; a pair without "="
// or a repeated key is an error.
func KV(spec string) (map[string]string, error) {
	kvs := map[string]string{}
	for _, pair := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("invalid key-value pair %q (want key=value)", pair)
		}
		k = strings.TrimSpace(k)
		if _, dup := kvs[k]; dup {
			return nil, fmt.Errorf("key %q given twice", k)
		}
		kvs[k] = strings.TrimSpace(v)
	}
	return kvs, nil
}

func require(kvs map[string]string, keys ...string) error {
	for _, k := range keys {
		if kvs[k] == "" {
			return fmt.Errorf("missing or empty required key %q", k)
		}
	}
	return nil
}

func optionalTime(kvs map[string]string, key string, def time.Time) (time.Time, error) {
	s := kvs[key]
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time", key, s)
	}
	return t, nil
}

// Certificates reads a PEM certificate list (at least one).
func Certificates(path string) ([]*x509.Certificate, error) {
	data, err := fileutil.ReadLimit(path, maxFile)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return certs, nil
}

// PublicKey reads a PEM public key.
func PublicKey(path string) (crypto.PublicKey, error) {
	data, err := fileutil.ReadLimit(path, maxFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: no PEM PUBLIC KEY found", path)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

// Fulcio parses url=…,certificate-chain=PATH[,start-time,end-time]. The
// chain is leaf-most first and ends with the root; start-time defaults to
// the root's NotBefore.
func Fulcio(spec string) (root.CertificateAuthority, error) {
	kvs, err := KV(spec)
	if err != nil {
		return nil, err
	}
	if err := require(kvs, "url", "certificate-chain"); err != nil {
		return nil, err
	}
	certs, err := Certificates(kvs["certificate-chain"])
	if err != nil {
		return nil, fmt.Errorf("certificate-chain: %w", err)
	}
	ca := CA(certs, kvs["url"])
	if ca.ValidityPeriodStart, err = optionalTime(kvs, "start-time", ca.ValidityPeriodStart); err != nil {
		return nil, err
	}
	if ca.ValidityPeriodEnd, err = optionalTime(kvs, "end-time", time.Time{}); err != nil {
		return nil, err
	}
	return ca, nil
}

// CA is a Fulcio CA from a chain (leaf-most first, root last).
func CA(certs []*x509.Certificate, url string) *root.FulcioCertificateAuthority {
	r := certs[len(certs)-1]
	return &root.FulcioCertificateAuthority{
		Root:                r,
		Intermediates:       certs[:len(certs)-1],
		ValidityPeriodStart: r.NotBefore,
		URI:                 url,
	}
}

// TSA parses url=…,certificate-chain=PATH[,start-time,end-time]. The chain
// starts with the TSA's leaf and ends with its root; start-time defaults
// to the leaf's NotBefore.
func TSA(spec string) (root.TimestampingAuthority, error) {
	kvs, err := KV(spec)
	if err != nil {
		return nil, err
	}
	if err := require(kvs, "url", "certificate-chain"); err != nil {
		return nil, err
	}
	certs, err := Certificates(kvs["certificate-chain"])
	if err != nil {
		return nil, fmt.Errorf("certificate-chain: %w", err)
	}
	ta, err := TimestampAuthority(certs, kvs["url"])
	if err != nil {
		return nil, err
	}
	if ta.ValidityPeriodStart, err = optionalTime(kvs, "start-time", ta.ValidityPeriodStart); err != nil {
		return nil, err
	}
	if ta.ValidityPeriodEnd, err = optionalTime(kvs, "end-time", time.Time{}); err != nil {
		return nil, err
	}
	return ta, nil
}

// TimestampAuthority is a TSA from its chain: leaf first, root last.
func TimestampAuthority(certs []*x509.Certificate, url string) (*root.SigstoreTimestampingAuthority, error) {
	if len(certs) < 2 {
		return nil, errors.New("certificate-chain: a TSA chain needs at least the leaf and the root")
	}
	if certs[0].IsCA {
		return nil, errors.New("certificate-chain: the first certificate must be the TSA's leaf, not a CA")
	}
	return &root.SigstoreTimestampingAuthority{
		Leaf:                certs[0],
		Intermediates:       certs[1 : len(certs)-1],
		Root:                certs[len(certs)-1],
		ValidityPeriodStart: certs[0].NotBefore,
		URI:                 url,
	}, nil
}

// Log parses url=…,public-key=PATH,start-time=…[,end-time,origin] (a
// Rekor or CT log) and returns it with its hex ID: the SHA-256 of the
// key's DER, or for a Rekor v2 log with an origin, the checkpoint key ID.
func Log(spec string) (*root.TransparencyLog, string, error) {
	kvs, err := KV(spec)
	if err != nil {
		return nil, "", err
	}
	if err := require(kvs, "url", "public-key", "start-time"); err != nil {
		return nil, "", err
	}
	pub, err := PublicKey(kvs["public-key"])
	if err != nil {
		return nil, "", fmt.Errorf("public-key: %w", err)
	}
	start, err := optionalTime(kvs, "start-time", time.Time{})
	if err != nil {
		return nil, "", err
	}
	end, err := optionalTime(kvs, "end-time", time.Time{})
	if err != nil {
		return nil, "", err
	}
	return NewLog(pub, kvs["url"], kvs["origin"], start, end)
}

// NewLog describes a log by its key. origin, when set, makes the ID the
// Rekor v2 checkpoint key ID.
func NewLog(pub crypto.PublicKey, url, origin string, start, end time.Time) (*root.TransparencyLog, string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, "", fmt.Errorf("public-key: %w", err)
	}
	sum := sha256.Sum256(der)
	id := sum[:]
	if origin != "" {
		if _, id, err = note.KeyHash(origin, pub); err != nil {
			return nil, "", fmt.Errorf("origin %q: %w", origin, err)
		}
	}
	return &root.TransparencyLog{
		BaseURL:             url,
		ID:                  id,
		HashFunc:            crypto.SHA256,
		PublicKey:           pub,
		SignatureHashFunc:   SignatureHash(pub),
		ValidityPeriodStart: start,
		ValidityPeriodEnd:   end,
	}, hex.EncodeToString(id), nil
}

// SignatureHash is the hash a log signs with for its key type, as
// sigstore-go chooses it for keys in a trusted root.
func SignatureHash(pub crypto.PublicKey) crypto.Hash {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			return crypto.SHA384
		case elliptic.P521():
			return crypto.SHA512
		}
	case ed25519.PublicKey:
		return crypto.SHA512
	}
	return crypto.SHA256
}

// Service parses url=…,api-version=N,start-time=…,operator=…[,end-time]
// (a signing config service).
func Service(spec string) (root.Service, error) {
	kvs, err := KV(spec)
	if err != nil {
		return root.Service{}, err
	}
	if err := require(kvs, "url", "api-version", "start-time", "operator"); err != nil {
		return root.Service{}, err
	}
	v, err := strconv.ParseUint(kvs["api-version"], 10, 32)
	if err != nil {
		return root.Service{}, fmt.Errorf("api-version %q: want a non-negative integer", kvs["api-version"])
	}
	start, err := optionalTime(kvs, "start-time", time.Time{})
	if err != nil {
		return root.Service{}, err
	}
	end, err := optionalTime(kvs, "end-time", time.Time{})
	if err != nil {
		return root.Service{}, err
	}
	return root.Service{URL: kvs["url"], MajorAPIVersion: uint32(v), Operator: kvs["operator"], ValidityPeriodStart: start, ValidityPeriodEnd: end}, nil
}

// Selector parses ANY, ALL or EXACT:<count>.
func Selector(s string) (root.ServiceConfiguration, error) {
	mode, count, hasCount := strings.Cut(s, ":")
	switch strings.ToUpper(mode) {
	case "ANY", "ALL":
		if hasCount {
			return root.ServiceConfiguration{}, fmt.Errorf("%q: %s takes no count", s, mode)
		}
		sel := prototrustroot.ServiceSelector_ANY
		if strings.EqualFold(mode, "ALL") {
			sel = prototrustroot.ServiceSelector_ALL
		}
		return root.ServiceConfiguration{Selector: sel}, nil
	case "EXACT":
		n, err := strconv.ParseUint(count, 10, 32)
		if !hasCount || err != nil || n == 0 {
			return root.ServiceConfiguration{}, fmt.Errorf("%q: EXACT needs a positive count, e.g. EXACT:1", s)
		}
		return root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_EXACT, Count: uint32(n)}, nil
	}
	return root.ServiceConfiguration{}, fmt.Errorf("%q: want ANY, ALL or EXACT:<count>", s)
}
