package keys

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"
)

// Key references that name a key somewhere else than a file. KMS URIs go
// to sigstore/sigstore's kms package: a provider compiled in with a build
// tag (kms_aws, kms_gcp, kms_azure, kms_hashivault, or kms_all), else a
// plugin program sigstore-kms-<scheme> on PATH (the cliplugin protocol).

// kmsTags maps the KMS schemes sigstore has providers for to the build tag
// that compiles the provider into signet.
var kmsTags = map[string]string{
	"awskms":     "kms_aws",
	"gcpkms":     "kms_gcp",
	"azurekms":   "kms_azure",
	"hashivault": "kms_hashivault",
}

// unsupportedSchemes are cosign key references that need platform APIs
// signet does not carry (see docs/KEYS.md).
var unsupportedSchemes = map[string]string{
	"k8s":    "Kubernetes secrets",
	"gitlab": "GitLab CI variables",
	"github": "GitHub Actions secrets",
}

// refScheme returns the scheme of a "scheme://rest" reference, or "" for a
// path (a scheme never holds a path separator, so "dir/a://b" is a path).
func refScheme(ref string) string {
	scheme, _, ok := strings.Cut(ref, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, `/\`) {
		return ""
	}
	return scheme
}

// IsKMSRef reports whether ref is resolved through a KMS provider or plugin
// rather than read as bytes: any scheme:// other than env, http(s), file
// and the platform schemes cosign reserves (k8s, gitlab, github).
func IsKMSRef(ref string) bool {
	switch s := refScheme(ref); s {
	case "", "env", "http", "https", "file":
		return false
	default:
		_, reserved := unsupportedSchemes[s]
		return !reserved
	}
}

// checkSupportedRef rejects the references cosign supports but this build
// of signet cannot: platform secrets and PKCS#11 tokens.
func checkSupportedRef(ref string) error {
	if strings.HasPrefix(ref, "pkcs11:") {
		return errors.New("a PKCS#11 key is not a KMS key: use it with --key")
	}
	if what, ok := unsupportedSchemes[refScheme(ref)]; ok {
		return fmt.Errorf("%s:// keys (%s) are not supported by this build; see docs/KEYS.md", refScheme(ref), what)
	}
	return nil
}

// kmsKey is what signet needs of a KMS key, from a compiled-in provider
// or a plugin.
type kmsKey interface {
	signature.SignerVerifier
	CreateKey(ctx context.Context, algorithm string) (crypto.PublicKey, error)
	DefaultAlgorithm() string
}

// getKMS resolves a KMS URI: a provider compiled in, else a plugin on PATH
// or beside signet's executable. With neither it says how to get one.
func getKMS(ctx context.Context, ref string) (kmsKey, error) {
	scheme := refScheme(ref)
	if compiledIn(scheme) {
		sv, err := kms.Get(ctx, ref, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("%s: %s", scheme, strings.Join(strings.Fields(err.Error()), " "))
		}
		return sv, nil
	}
	path, err := findPlugin(scheme)
	if err != nil {
		return nil, kmsNotFound(scheme)
	}
	return newPluginKey(ctx, path, ref, crypto.SHA256), nil
}

func compiledIn(scheme string) bool {
	for _, p := range kms.SupportedProviders() {
		if p == scheme+"://" {
			return true
		}
	}
	return false
}

func kmsNotFound(scheme string) error {
	plugin := cliplugin.PluginBinaryPrefix + scheme
	if tag, ok := kmsTags[scheme]; ok {
		return fmt.Errorf("%s:// keys need the %s plugin, which `make build` and signet's release archives put beside signet: it is neither beside this executable nor on PATH (or build signet with -tags %s; see docs/KEYS.md)", scheme, plugin, tag)
	}
	return fmt.Errorf("%s:// keys are not supported by this build: no KMS provider and no %s plugin beside signet or on PATH (see docs/KEYS.md)", scheme, plugin)
}

// KMSProviders lists the KMS schemes compiled into this build, sorted
// (empty in the default build, which relies on plugins).
func KMSProviders() []string {
	p := kms.SupportedProviders()
	for i, s := range p {
		p[i] = strings.TrimSuffix(s, "://")
	}
	sort.Strings(p)
	return p
}

// CreateKMSKey creates a key in the KMS that ref names, with the
// provider's default algorithm, and returns its public key
// (generate-key-pair --kms).
func CreateKMSKey(ctx context.Context, ref string) (crypto.PublicKey, error) {
	if err := checkSupportedRef(ref); err != nil {
		return nil, err
	}
	if !IsKMSRef(ref) {
		return nil, errors.New("not a KMS key URI (<scheme>://<key>, e.g. awskms:///alias/NAME or hashivault://NAME)")
	}
	sv, err := getKMS(ctx, ref)
	if err != nil {
		return nil, err
	}
	alg, err := defaultAlgorithm(ctx, sv)
	if err != nil {
		return nil, err
	}
	pub, err := sv.CreateKey(ctx, alg)
	if err != nil {
		return nil, fmt.Errorf("creating key (%s): %w", alg, err)
	}
	return pub, nil
}

// defaultAlgorithm asks the provider for its default algorithm; a
// plugin's failure is an error, not an empty name.
func defaultAlgorithm(ctx context.Context, sv kmsKey) (string, error) {
	if pk, ok := sv.(*pluginKey); ok {
		return pk.defaultAlgorithm(ctx)
	}
	return sv.DefaultAlgorithm(), nil
}
