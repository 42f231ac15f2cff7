package imagesig

import (
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// SimpleSigningType is critical.type of a cosign image signature payload.
const SimpleSigningType = "cosign container image signature"

// SignPredicateType is the predicate type of the in-toto statement cosign
// v3 signs for `cosign sign` in the new bundle format.
const SignPredicateType = "https://sigstore.dev/cosign/sign/v1"

// SimpleSigning is cosign's (and containers/image's) simple-signing
// payload. Field order and Go's sorted map keys make json.Marshal produce
// cosign's exact bytes.
type SimpleSigning struct {
	Critical Critical       `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// Critical is the part of the payload a verifier must check.
type Critical struct {
	Identity Identity `json:"identity"`
	Image    Image    `json:"image"`
	Type     string   `json:"type"`
}

// Identity names the repository the image was signed in.
type Identity struct {
	DockerReference string `json:"docker-reference"`
}

// Image names the signed manifest.
type Image struct {
	DockerManifestDigest string `json:"docker-manifest-digest"`
}

// NewSimpleSigning returns the payload cosign signs for digest d of
// repository repo (name.Repository.Name(), e.g. index.docker.io/library/x).
// optional is `null` when there are no annotations, as in cosign.
func NewSimpleSigning(repo string, d v1.Hash, annotations map[string]string) ([]byte, error) {
	p := SimpleSigning{Critical: Critical{
		Identity: Identity{DockerReference: repo},
		Image:    Image{DockerManifestDigest: d.String()},
		Type:     SimpleSigningType,
	}}
	if len(annotations) > 0 {
		p.Optional = make(map[string]any, len(annotations))
		for k, v := range annotations {
			p.Optional[k] = v
		}
	}
	return json.Marshal(p)
}

// ParseSimpleSigning parses a payload from a registry: it must be a JSON
// object naming a manifest digest, with cosign's type.
func ParseSimpleSigning(data []byte) (*SimpleSigning, error) {
	var p SimpleSigning
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("simple-signing payload is not valid JSON: %w", err)
	}
	if p.Critical.Type != SimpleSigningType {
		return nil, fmt.Errorf("simple-signing payload has type %q, want %q", p.Critical.Type, SimpleSigningType)
	}
	if p.Critical.Image.DockerManifestDigest == "" {
		return nil, errors.New("simple-signing payload names no docker-manifest-digest")
	}
	return &p, nil
}

// statementV1 is the in-toto v1 statement cosign v3 signs for an image.
type statementV1 struct {
	Type          string          `json:"_type"`
	Subject       []subjectV1     `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subjectV1 struct {
	Name        string            `json:"name,omitempty"`
	Digest      map[string]string `json:"digest"`
	Annotations map[string]string `json:"annotations"`
}

// NewSignStatement is the statement cosign v3 signs for an image in the
// new bundle format: the digest as subject (no name), the -a annotations
// on it, predicate type SignPredicateType, an empty predicate.
func NewSignStatement(d v1.Hash, annotations map[string]string) ([]byte, error) {
	if annotations == nil {
		annotations = map[string]string{}
	}
	return json.Marshal(statementV1{
		Type:          "https://in-toto.io/Statement/v1",
		Subject:       []subjectV1{{Digest: map[string]string{d.Algorithm: d.Hex}, Annotations: annotations}},
		PredicateType: SignPredicateType,
		Predicate:     json.RawMessage("{}"),
	})
}
