package admission

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/keys"
)

// TrustRoot is policy-controller's policy.sigstore.dev/v1alpha1 TrustRoot,
// read unchanged: the trust material a policy's trustRootRef names. Every
// field of its schema is declared, so one signet does not support is
// refused by name.
type TrustRoot struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   ObjectMeta      `json:"metadata"`
	Spec       TrustRootSpec   `json:"-"`
	RawSpec    json.RawMessage `json:"spec"`
}

// TrustRootSpec is one of: a TUF repository to follow (remote), a
// serialized TUF repository (repository, refused), the keys and
// certificates themselves (sigstoreKeys), or a trusted_root.json.
type TrustRootSpec struct {
	Remote          *TUFRemote       `json:"remote,omitempty"`
	Repository      *json.RawMessage `json:"repository,omitempty"`
	SigstoreKeys    *SigstoreKeys    `json:"sigstoreKeys,omitempty"`
	TrustedRootJSON string           `json:"trustedRootJSON,omitempty"`
}

// TUFRemote is a TUF mirror and the root.json to start from (base64 in
// JSON, as policy-controller's []byte).
type TUFRemote struct {
	Root              []byte `json:"root"`
	Mirror            string `json:"mirror"`
	Targets           string `json:"targets,omitempty"`
	TrustedRootTarget string `json:"trustedRootTarget,omitempty"`
}

// SigstoreKeys are a Sigstore instance's CAs, logs and TSAs.
type SigstoreKeys struct {
	CertificateAuthorities []TrustedCA  `json:"certificateAuthorities"`
	TLogs                  []TrustedLog `json:"tLogs,omitempty"`
	CTLogs                 []TrustedLog `json:"ctLogs,omitempty"`
	TimestampAuthorities   []TrustedCA  `json:"timestampAuthorities,omitempty"`
}

// TrustedCA is a certificate authority: its chain in PEM (base64 in
// JSON), the root last.
type TrustedCA struct {
	Subject   DistinguishedName `json:"subject"`
	URI       string            `json:"uri"`
	CertChain []byte            `json:"certChain"`
}

// DistinguishedName names a CA (informational).
type DistinguishedName struct {
	Organization string `json:"organization"`
	CommonName   string `json:"commonName"`
}

// TrustedLog is a transparency log: its URL and PEM public key.
type TrustedLog struct {
	BaseURL       string `json:"baseURL"`
	HashAlgorithm string `json:"hashAlgorithm"`
	PublicKey     []byte `json:"publicKey"`
}

// TrustRootKind is the kind of TrustRoot objects.
const TrustRootKind = "TrustRoot"

// ParseTrustRoot reads one TrustRoot as JSON; the spec strictly.
func ParseTrustRoot(data []byte) (*TrustRoot, error) {
	var tr TrustRoot
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, fmt.Errorf("parsing TrustRoot: %w", err)
	}
	if err := tr.decodeSpec(); err != nil {
		return nil, err
	}
	return &tr, nil
}

func (tr *TrustRoot) decodeSpec() error {
	name := tr.Metadata.Name
	if name == "" {
		return errors.New("TrustRoot has no metadata.name")
	}
	if tr.Kind != TrustRootKind {
		return fmt.Errorf("TrustRoot %s: kind is %q", name, tr.Kind)
	}
	if tr.APIVersion != PolicyGroup+"/v1alpha1" {
		return fmt.Errorf("TrustRoot %s: apiVersion %q: want %s/v1alpha1", name, tr.APIVersion, PolicyGroup)
	}
	if len(tr.RawSpec) == 0 {
		return fmt.Errorf("TrustRoot %s: no spec", name)
	}
	dec := json.NewDecoder(bytes.NewReader(tr.RawSpec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tr.Spec); err != nil {
		return fmt.Errorf("TrustRoot %s: spec: %w", name, err)
	}
	return nil
}

// CompiledTrustRoot is a TrustRoot ready to use: Material when the spec
// holds the material itself (sigstoreKeys, trustedRootJSON); Mirror and
// TUFRoot when it is a TUF repository to follow (remote), which the
// caller loads and refreshes.
type CompiledTrustRoot struct {
	Name, UID, ResourceVersion string
	Material                   root.TrustedMaterial
	Mirror                     string
	TUFRoot                    []byte
	// Version changes with the spec (a cache key part).
	Version string
}

// CompileTrustRoot checks a TrustRoot and builds its material.
func CompileTrustRoot(tr *TrustRoot) (*CompiledTrustRoot, error) {
	c, err := compileTrustRoot(tr)
	if err != nil {
		return nil, fmt.Errorf("TrustRoot %s: %w", tr.Metadata.Name, err)
	}
	return c, nil
}

func compileTrustRoot(tr *TrustRoot) (*CompiledTrustRoot, error) {
	sum := sha256.Sum256(tr.RawSpec)
	c := &CompiledTrustRoot{Name: tr.Metadata.Name, UID: tr.Metadata.UID, ResourceVersion: tr.Metadata.ResourceVersion, Version: hex.EncodeToString(sum[:8])}
	s := tr.Spec
	n := 0
	for _, set := range []bool{s.Remote != nil, s.Repository != nil, s.SigstoreKeys != nil, s.TrustedRootJSON != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("spec: exactly one of remote, repository, sigstoreKeys or trustedRootJSON is required")
	}
	var err error
	switch {
	case s.Repository != nil:
		return nil, errors.New("spec.repository (a serialized TUF repository) is not supported by signet: serve it and use spec.remote, or give spec.trustedRootJSON")
	case s.TrustedRootJSON != "":
		if c.Material, err = root.NewTrustedRootFromJSON([]byte(s.TrustedRootJSON)); err != nil {
			return nil, fmt.Errorf("spec.trustedRootJSON: %w", err)
		}
	case s.SigstoreKeys != nil:
		if c.Material, err = sigstoreKeysMaterial(s.SigstoreKeys); err != nil {
			return nil, fmt.Errorf("spec.sigstoreKeys.%w", err)
		}
	default:
		r := s.Remote
		u, err := url.Parse(r.Mirror)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("spec.remote.mirror %q: want an http(s) URL", r.Mirror)
		}
		if r.Targets != "" && r.Targets != "targets" {
			return nil, fmt.Errorf("spec.remote.targets %q: only the default, targets, is supported", r.Targets)
		}
		if r.TrustedRootTarget != "" && r.TrustedRootTarget != "trusted_root.json" {
			return nil, fmt.Errorf("spec.remote.trustedRootTarget %q: only the default, trusted_root.json, is supported", r.TrustedRootTarget)
		}
		var probe struct {
			Signed struct {
				Type    string `json:"_type"`
				Version int64  `json:"version"`
			} `json:"signed"`
		}
		if err := json.Unmarshal(r.Root, &probe); err != nil || probe.Signed.Type != "root" || probe.Signed.Version < 1 {
			return nil, errors.New("spec.remote.root: not a TUF root.json (base64 of its JSON)")
		}
		c.Mirror, c.TUFRoot = strings.TrimSuffix(r.Mirror, "/"), r.Root
	}
	return c, nil
}

func sigstoreKeysMaterial(k *SigstoreKeys) (root.TrustedMaterial, error) {
	var cas []root.CertificateAuthority
	for i, ca := range k.CertificateAuthorities {
		chain, err := trust.ParseCertificatesPEM(ca.CertChain)
		if err != nil {
			return nil, fmt.Errorf("certificateAuthorities[%d].certChain: %w", i, err)
		}
		r := chain[len(chain)-1]
		if !bytes.Equal(r.RawSubject, r.RawIssuer) {
			return nil, fmt.Errorf("certificateAuthorities[%d].certChain: the last certificate (%s) is not a self-signed root", i, r.Subject)
		}
		cas = append(cas, &root.FulcioCertificateAuthority{Root: r, Intermediates: chain[:len(chain)-1], URI: ca.URI})
	}
	var tsas []root.TimestampingAuthority
	for i, ca := range k.TimestampAuthorities {
		chain, err := trust.ParseCertificatesPEM(ca.CertChain)
		if err == nil {
			err = trust.CheckTimestampChain(chain)
		}
		if err != nil {
			return nil, fmt.Errorf("timestampAuthorities[%d].certChain: %w", i, err)
		}
		tsas = append(tsas, trust.TimestampAuthorities(chain)...)
	}
	rekor, err := logs("tLogs", k.TLogs)
	if err != nil {
		return nil, err
	}
	ct, err := logs("ctLogs", k.CTLogs)
	if err != nil {
		return nil, err
	}
	return root.NewTrustedRoot(root.TrustedRootMediaType01, cas, ct, tsas, rekor)
}

func logs(field string, in []TrustedLog) (map[string]*root.TransparencyLog, error) {
	out := map[string]*root.TransparencyLog{}
	for i, l := range in {
		switch strings.ToLower(l.HashAlgorithm) {
		case "", "sha-256", "sha256", "sha2_256":
		default:
			return nil, fmt.Errorf("%s[%d].hashAlgorithm %q: only sha-256 is supported", field, i, l.HashAlgorithm)
		}
		pub, err := keys.ParsePublicKey(l.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%s[%d].publicKey: %w", field, i, err)
		}
		tl, err := trust.LogFromKey(pub)
		if err != nil {
			return nil, fmt.Errorf("%s[%d].publicKey: %w", field, i, err)
		}
		tl.BaseURL = l.BaseURL
		out[hex.EncodeToString(tl.ID)] = tl
	}
	return out, nil
}
