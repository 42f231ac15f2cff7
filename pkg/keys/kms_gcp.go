//go:build kms_gcp || kms_all

package keys

// Compiles sigstore's gcpkms:// provider into signet (-tags kms_gcp). The
// default build leaves it out and uses the sigstore-kms-gcpkms plugin
// shipped beside signet (cmd/sigstore-kms).
import _ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
