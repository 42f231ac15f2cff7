package flags

import (
	"context"
	"errors"

	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/verifier"
)

// Verify holds the verification switches every verify verb shares: the
// key, the insecure opt-outs, timestamps, and cosign flags kept for
// compatibility that change nothing in signet.
type Verify struct {
	Identity Identity

	Key  string
	Sk   bool
	Slot string

	IgnoreTlog            bool
	PrivateInfrastructure bool
	IgnoreSCT             bool
	UseSignedTimestamps   bool
	AllowCertificateChain bool

	// Accepted for cosign compatibility; see AddFlags.
	MaxWorkers        int
	NewBundleFormat   bool
	ExperimentalOCI11 bool
}

// AddFlags registers the flags.
func (o *Verify) AddFlags(fs *pflag.FlagSet) {
	o.Identity.AddFlags(fs)
	fs.StringVar(&o.Key, "key", "", "path to the public key file, KMS URI or Kubernetes Secret")
	fs.BoolVar(&o.Sk, "sk", false, "whether to use a hardware security key")
	fs.StringVar(&o.Slot, "slot", "", "security key slot to use for generated key (default: signature) (authentication|signature|card-authentication|key-management)")
	fs.BoolVar(&o.IgnoreTlog, "insecure-ignore-tlog", false, "ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log. Artifacts cannot be publicly verified when not included in a log")
	fs.BoolVar(&o.PrivateInfrastructure, "private-infrastructure", false, "skip transparency log verification when verifying artifacts in a privately deployed infrastructure")
	deprecated(fs, "private-infrastructure", "please use --insecure-ignore-tlog instead")
	fs.BoolVar(&o.IgnoreSCT, "insecure-ignore-sct", false, "when set, verification will not check that a certificate contains an embedded SCT, a proof of inclusion in a certificate transparency log")
	fs.BoolVar(&o.UseSignedTimestamps, "use-signed-timestamps", false, "require an RFC 3161 timestamp (signet always verifies the timestamps a bundle carries, with or without this flag)")
	fs.BoolVar(&o.AllowCertificateChain, "allow-certificate-chain", false, "allow X.509 certificate chains in bundle verification material for v0.3+ bundles")
	fs.IntVar(&o.MaxWorkers, "max-workers", 10, "the amount of maximum workers for parallel executions")
	fs.BoolVar(&o.NewBundleFormat, "new-bundle-format", true, "expect the signature/attestation to be packaged in a Sigstore bundle (signet detects the format itself)")
	deprecated(fs, "new-bundle-format", "this will be the only supported format in future versions")
	fs.BoolVar(&o.ExperimentalOCI11, "experimental-oci11", false, "set to true to enable experimental OCI 1.1 behaviour (unrelated to bundle format)")
	deprecated(fs, "experimental-oci11", "OCI referrers will be the default behavior in future versions")
}

// Policy builds the verification policy. The key, if any, is loaded here
// (a KMS key within ctx).
func (o *Verify) Policy(ctx context.Context, f *cli.Factory) (verifier.Policy, error) {
	if o.Sk || o.Slot != "" {
		return verifier.Policy{}, errors.New("--sk/--slot: this signet build has no hardware security key support")
	}
	id, err := o.Identity.ToIdentity()
	if err != nil {
		return verifier.Policy{}, err
	}
	p := verifier.Policy{
		Identity:              id,
		UseSignedTimestamps:   o.UseSignedTimestamps,
		AllowCertificateChain: o.AllowCertificateChain,
		IgnoreTlogUnsafe:      o.IgnoreTlog || o.PrivateInfrastructure,
		IgnoreSCTUnsafe:       o.IgnoreSCT,
		Warnf:                 f.Warnf,
	}
	if o.Key != "" {
		if !id.IsZero() {
			return verifier.Policy{}, verifier.ErrKeyWithIdentity
		}
		if p.Key, err = keys.LoadVerifierContext(ctx, o.Key, f.Getenv); err != nil {
			return verifier.Policy{}, err
		}
	}
	return p, p.Validate()
}
