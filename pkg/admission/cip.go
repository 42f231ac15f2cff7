package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ClusterImagePolicy is policy-controller's policy.sigstore.dev
// ClusterImagePolicy, v1alpha1 and v1beta1 (the two have the same fields),
// read unchanged. Every field of policy-controller's schema is declared
// so that one signet does not support is refused by name, never ignored.
type ClusterImagePolicy struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata"`
	Spec       PolicySpec `json:"-"`
	// RawSpec is decoded strictly into Spec.
	RawSpec json.RawMessage `json:"spec"`
}

// ObjectMeta is the part of metadata a policy uses.
type ObjectMeta struct {
	Name            string            `json:"name"`
	UID             string            `json:"uid,omitempty"`
	ResourceVersion string            `json:"resourceVersion,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
}

// PolicySpec is spec of a ClusterImagePolicy.
type PolicySpec struct {
	Images      []ImagePattern  `json:"images"`
	Authorities []AuthoritySpec `json:"authorities"`
	Mode        string          `json:"mode,omitempty"`
	Policy      *PolicyDocSpec  `json:"policy,omitempty"`
	Match       []MatchResource `json:"match,omitempty"`
}

// ImagePattern is one images entry.
type ImagePattern struct {
	Glob string `json:"glob"`
}

// AuthoritySpec is one authorities entry.
type AuthoritySpec struct {
	Name             string            `json:"name,omitempty"`
	Key              *KeySpec          `json:"key,omitempty"`
	Keyless          *KeylessSpec      `json:"keyless,omitempty"`
	Static           *StaticSpec       `json:"static,omitempty"`
	Sources          []SourceSpec      `json:"source,omitempty"`
	CTLog            *TLogSpec         `json:"ctlog,omitempty"`
	RFC3161Timestamp *TimestampSpec    `json:"rfc3161timestamp,omitempty"`
	Attestations     []AttestationSpec `json:"attestations,omitempty"`
	SignatureFormat  string            `json:"signatureFormat,omitempty"`
}

// KeySpec is a public key: inline PEM, a KMS URI or a Secret.
type KeySpec struct {
	Data          string     `json:"data,omitempty"`
	KMS           string     `json:"kms,omitempty"`
	SecretRef     *SecretRef `json:"secretRef,omitempty"`
	HashAlgorithm string     `json:"hashAlgorithm,omitempty"`
}

// SecretRef names a Secret.
type SecretRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// KeylessSpec is a Fulcio-issued certificate's identities.
type KeylessSpec struct {
	URL               string         `json:"url,omitempty"`
	Identities        []IdentitySpec `json:"identities,omitempty"`
	CACert            *KeySpec       `json:"ca-cert,omitempty"`
	TrustRootRef      string         `json:"trustRootRef,omitempty"`
	InsecureIgnoreSCT bool           `json:"insecureIgnoreSCT,omitempty"`
}

// IdentitySpec is an issuer and subject, exact or regular expressions.
type IdentitySpec struct {
	Issuer        string `json:"issuer,omitempty"`
	Subject       string `json:"subject,omitempty"`
	IssuerRegExp  string `json:"issuerRegExp,omitempty"`
	SubjectRegExp string `json:"subjectRegExp,omitempty"`
}

// StaticSpec passes or fails without looking at signatures.
type StaticSpec struct {
	Action  string `json:"action"`
	Message string `json:"message,omitempty"`
}

// SourceSpec says where signatures are read from.
type SourceSpec struct {
	OCI                  string     `json:"oci,omitempty"`
	SignaturePullSecrets []LocalRef `json:"signaturePullSecrets,omitempty"`
	TagPrefix            string     `json:"tagPrefix,omitempty"`
}

// LocalRef names an object in the request's namespace.
type LocalRef struct {
	Name string `json:"name"`
}

// TLogSpec is the transparency log.
type TLogSpec struct {
	URL          string `json:"url,omitempty"`
	TrustRootRef string `json:"trustRootRef,omitempty"`
}

// TimestampSpec requires an RFC 3161 timestamp.
type TimestampSpec struct {
	TrustRootRef string `json:"trustRootRef,omitempty"`
}

// AttestationSpec is an attestation the image must carry.
type AttestationSpec struct {
	Name          string         `json:"name"`
	PredicateType string         `json:"predicateType"`
	Policy        *PolicyDocSpec `json:"policy,omitempty"`
}

// PolicyDocSpec is a CUE or Rego policy: over an attestation's statement
// (attestations[].policy), or over the authorities' results (spec.policy).
// One shape for both, as in policy-controller.
type PolicyDocSpec struct {
	Type              string        `json:"type"`
	Data              string        `json:"data,omitempty"`
	Remote            *RemotePolicy `json:"remote,omitempty"`
	ConfigMapRef      *ConfigMapRef `json:"configMapRef,omitempty"`
	FetchConfigFile   *bool         `json:"fetchConfigFile,omitempty"`
	IncludeSpec       *bool         `json:"includeSpec,omitempty"`
	IncludeObjectMeta *bool         `json:"includeObjectMeta,omitempty"`
	IncludeTypeMeta   *bool         `json:"includeTypeMeta,omitempty"`
}

// ConfigMapRef names the key of a ConfigMap that holds a policy
// (policy.configMapRef). policy-controller reads the ConfigMap from its
// own namespace whatever namespace says; signet does the same and refuses
// another namespace rather than ignore it.
type ConfigMapRef struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Key       string `json:"key,omitempty"`
}

// RemotePolicy is a policy fetched from a URL, pinned by its SHA-256.
type RemotePolicy struct {
	URL       string `json:"url"`
	Sha256sum string `json:"sha256sum,omitempty"`
}

// PolicyGroup is the API group of ClusterImagePolicy.
const PolicyGroup = "policy.sigstore.dev"

// MaxPolicySize bounds one policy file or object.
const MaxPolicySize = 4 << 20

// ParsePolicy reads one ClusterImagePolicy as JSON (what the API server
// serves). The spec is decoded strictly: a field outside
// policy-controller's schema is a typo or a newer feature, refused.
func ParsePolicy(data []byte) (*ClusterImagePolicy, error) {
	var p ClusterImagePolicy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("parsing ClusterImagePolicy: %w", err)
	}
	if err := p.decodeSpec(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *ClusterImagePolicy) decodeSpec() error {
	name := p.Metadata.Name
	if name == "" {
		return errors.New("ClusterImagePolicy has no metadata.name")
	}
	if p.Kind != "ClusterImagePolicy" {
		return fmt.Errorf("ClusterImagePolicy %s: kind is %q", name, p.Kind)
	}
	switch p.APIVersion {
	case PolicyGroup + "/v1alpha1", PolicyGroup + "/v1beta1":
	default:
		return fmt.Errorf("ClusterImagePolicy %s: apiVersion %q: want %s/v1alpha1 or v1beta1", name, p.APIVersion, PolicyGroup)
	}
	if len(p.RawSpec) == 0 {
		return fmt.Errorf("ClusterImagePolicy %s: no spec", name)
	}
	dec := json.NewDecoder(bytes.NewReader(p.RawSpec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p.Spec); err != nil {
		return fmt.Errorf("ClusterImagePolicy %s: spec: %w", name, err)
	}
	return nil
}

// ParsePolicyFile reads ClusterImagePolicies from YAML or JSON: one
// object, several YAML documents, or a List (kubectl get -o yaml).
// TrustRoots in it are checked and dropped; ParseFile keeps them.
func ParsePolicyFile(data []byte) ([]*ClusterImagePolicy, error) {
	cips, _, err := ParseFile(data)
	if err != nil {
		return nil, err
	}
	if len(cips) == 0 {
		return nil, errors.New("no ClusterImagePolicy found")
	}
	return cips, nil
}

// ParseFile reads the ClusterImagePolicies and TrustRoots of a file
// (--policy-file): YAML or JSON, one object, several YAML documents, or
// a List. Any other kind is refused.
func ParseFile(data []byte) ([]*ClusterImagePolicy, []*TrustRoot, error) {
	if len(data) > MaxPolicySize {
		return nil, nil, fmt.Errorf("policy file larger than %d bytes", MaxPolicySize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var cips []*ClusterImagePolicy
	var trs []*TrustRoot
	add := func(js []byte) error {
		var k struct {
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal(js, &k)
		if k.Kind == TrustRootKind {
			tr, err := ParseTrustRoot(js)
			if err != nil {
				return err
			}
			trs = append(trs, tr)
			return nil
		}
		p, err := ParsePolicy(js)
		if err != nil {
			return err
		}
		cips = append(cips, p)
		return nil
	}
	for i := 1; ; i++ {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
		if doc == nil {
			continue
		}
		js, err := json.Marshal(doc)
		if err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
		var list struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(js, &list) == nil && strings.HasSuffix(list.Kind, "List") {
			for _, it := range list.Items {
				if err := add(it); err != nil {
					return nil, nil, fmt.Errorf("document %d: %w", i, err)
				}
			}
			continue
		}
		if err := add(js); err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
	}
	if len(cips)+len(trs) == 0 {
		return nil, nil, errors.New("no ClusterImagePolicy or TrustRoot found")
	}
	return cips, trs, nil
}
