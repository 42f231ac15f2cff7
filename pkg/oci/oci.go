// Package oci stores and finds cosign-compatible signatures, attestations
// and attachments in OCI registries and OCI layouts: the legacy
// sha256-<hex>.sig/.att/.sbom tags and OCI 1.1 referrers (with the
// referrers tag fallback). It knows nothing of flags or of verification.
// Everything it reads from a registry is bounded (GHSA-vfp6-jrw2-99g9,
// GHSA-88jx-383q-w4qc, GHSA-95pr-fxf5-86gv).
package oci

import (
	"errors"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Tag suffixes of cosign's legacy storage.
const (
	SignatureSuffix   = ".sig"
	AttestationSuffix = ".att"
	SBOMSuffix        = ".sbom"
)

// Media and artifact types.
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEMediaType          = "application/vnd.dsse.envelope.v1+json"
	BundleMediaType        = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// LegacySignatureArtifactType marks a simple-signing referrer
	// (--new-bundle-format=false --registry-referrers-mode=oci-1-1).
	LegacySignatureArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json"
	EmptyMediaType              = "application/vnd.oci.empty.v1+json"
)

// Annotations of legacy signature and attestation layers, and of bundle
// referrer manifests.
const (
	AnnotationSignature     = "dev.cosignproject.cosign/signature"
	AnnotationCertificate   = "dev.sigstore.cosign/certificate"
	AnnotationChain         = "dev.sigstore.cosign/chain"
	AnnotationBundle        = "dev.sigstore.cosign/bundle"
	AnnotationTimestamp     = "dev.sigstore.cosign/rfc3161timestamp"
	AnnotationPredicateType = "predicateType"

	AnnotationBundleContent       = "dev.sigstore.bundle.content"
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	AnnotationCreated             = "org.opencontainers.image.created"
)

// Limits on what is read from a registry.
const (
	DefaultMaxAttachmentSize = 128 << 20 // COSIGN_MAX_ATTACHMENT_SIZE
	MaxLayers                = 1000      // layers of a .sig/.att image
	MaxManifestSize          = 4 << 20   // any manifest or index
	MaxReferrers             = 1000      // referrers of one digest, all pages
	MaxReferrersPages        = 100       // pages of one referrers listing
	MaxIndexChildren         = 1000      // manifests of one index (sign -r)
)

// ErrNotFound: the image, tag or manifest does not exist (cosign exit 11
// when it is the image being verified).
var ErrNotFound = errors.New("not found")

// ErrTooLarge: a registry served more than a limit allows.
var ErrTooLarge = errors.New("exceeds the limit")

// Options configure a Client. The zero value talks HTTPS to registries
// with the default keychain.
type Options struct {
	// Transport is the base round tripper (TLS settings of the registry
	// flags already applied); retries of 5xx/429 are added on top.
	Transport http.RoundTripper
	// Keychain resolves credentials; nil is authn.DefaultKeychain
	// (~/.docker/config.json and credential helpers).
	Keychain authn.Keychain
	// Auth, when set, is used for every registry instead of the keychain
	// (--registry-username/--registry-password/--registry-token).
	Auth authn.Authenticator
	// AllowHTTP lets references name plain-HTTP registries
	// (--allow-http-registry, --allow-insecure-registry).
	AllowHTTP bool
	// Repository, when set, is where signatures, attestations and
	// attachments are stored and looked up instead of the image's own
	// repository (COSIGN_REPOSITORY).
	Repository string
	// TagPrefix is put before the legacy tags' names:
	// <prefix>sha256-<hex>.sig (cosign's ociremote.WithPrefix,
	// policy-controller's source.tagPrefix).
	TagPrefix string
	// DockerMediaTypes writes Docker v2 manifests for legacy images
	// (COSIGN_DOCKER_MEDIA_TYPES=1).
	DockerMediaTypes bool
	// MaxAttachmentSize bounds one layer or blob read; 0 is the default.
	MaxAttachmentSize int64
	// UserAgent is sent with every request.
	UserAgent string
	// Warnf reports a fallback worth knowing (e.g. a referrers listing that
	// failed); nil discards.
	Warnf func(format string, args ...any)
}

// Client reads and writes cosign's storage in registries.
type Client struct {
	o   Options
	rts transports
}

// New returns a client.
func New(o Options) *Client { return &Client{o: o} }

// Target is an image resolved to its digest.
type Target struct {
	// Ref is the reference as given (tag or digest).
	Ref name.Reference
	// Digest is the image's repository at the resolved digest.
	Digest name.Digest
	// Descriptor is the manifest's descriptor (media type, size, digest).
	Descriptor v1.Descriptor
}

// Layer is one layer of a legacy .sig/.att/.sbom image, or of a referrer
// manifest: its content (bounded) and annotations.
type Layer struct {
	MediaType   string
	Data        []byte
	Annotations map[string]string
	// Digest is the layer's digest (set when read).
	Digest v1.Hash
}

// Referrer is one artifact whose subject is an image digest.
type Referrer struct {
	Descriptor v1.Descriptor
	Manifest   *v1.Manifest
	Layers     []Layer
}
