package keys

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature/kms"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/common"
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
		return errors.New("PKCS#11 keys are not supported by this build")
	}
	if what, ok := unsupportedSchemes[refScheme(ref)]; ok {
		return fmt.Errorf("%s:// keys (%s) are not supported by this build; see docs/KEYS.md", refScheme(ref), what)
	}
	return nil
}

// getKMS resolves a KMS URI. With no provider compiled in and no plugin on
// PATH it says how to get one.
func getKMS(ctx context.Context, ref string) (kms.SignerVerifier, error) {
	sv, err := kms.Get(ctx, ref, crypto.SHA256)
	if err == nil {
		return sv, nil
	}
	var nf *kms.ProviderNotFoundError
	if errors.As(err, &nf) {
		return nil, kmsNotFound(refScheme(ref))
	}
	return nil, fmt.Errorf("kms: %w", err)
}

func kmsNotFound(scheme string) error {
	plugin := cliplugin.PluginBinaryPrefix + scheme
	if tag, ok := kmsTags[scheme]; ok {
		return fmt.Errorf("%s:// keys are not supported by this build: put the %s plugin on PATH, or build signet with -tags %s (see docs/KEYS.md)", scheme, plugin, tag)
	}
	return fmt.Errorf("%s:// keys are not supported by this build: no KMS provider and no %s plugin on PATH (see docs/KEYS.md)", scheme, plugin)
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
	sv, err := getKMS(ctx, ref)
	if err != nil {
		return nil, err
	}
	alg, err := defaultAlgorithm(ctx, ref, sv)
	if err != nil {
		return nil, err
	}
	pub, err := sv.CreateKey(ctx, alg)
	if err != nil {
		return nil, fmt.Errorf("creating key (%s): %w", alg, err)
	}
	return pub, nil
}

// defaultAlgorithm asks the provider for its default algorithm. A plugin is
// asked directly: sigstore's PluginClient.DefaultAlgorithm ends the process
// (log.Fatal) when the plugin fails, and a failure must stay an error.
func defaultAlgorithm(ctx context.Context, ref string, sv kms.SignerVerifier) (string, error) {
	if _, ok := sv.(*cliplugin.PluginClient); !ok {
		return sv.DefaultAlgorithm(), nil
	}
	scheme, keyID, _ := strings.Cut(ref, "://")
	args, err := json.Marshal(&common.PluginArgs{
		InitOptions: &common.InitOptions{
			ProtocolVersion: common.ProtocolVersion,
			KeyResourceID:   keyID,
			HashFunc:        crypto.SHA256,
		},
		MethodArgs: &common.MethodArgs{
			MethodName:       common.DefaultAlgorithmMethodName,
			DefaultAlgorithm: &common.DefaultAlgorithmArgs{},
		},
	})
	if err != nil {
		return "", err
	}
	plugin := cliplugin.PluginBinaryPrefix + scheme
	cmd := exec.CommandContext(ctx, plugin, common.ProtocolVersion, string(args))
	cmd.Stderr = os.Stderr // as sigstore runs plugins: their diagnostics are the user's
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return "", fmt.Errorf("running %s: %w", plugin, err)
	}
	var resp common.PluginResp
	if err := json.Unmarshal(bytes.TrimSpace(out), &resp); err != nil {
		return "", fmt.Errorf("%s: parsing its response: %w", plugin, err)
	}
	if resp.ErrorMessage != "" {
		return "", fmt.Errorf("%s: %s", plugin, resp.ErrorMessage)
	}
	if resp.DefaultAlgorithm == nil || resp.DefaultAlgorithm.DefaultAlgorithm == "" {
		return "", fmt.Errorf("%s: no default algorithm in its response", plugin)
	}
	return resp.DefaultAlgorithm.DefaultAlgorithm, nil
}
