//go:build kms_gcp || kms_all

package keys

// Compiles sigstore's gcpkms:// provider into signet (-tags kms_gcp). The
// default build leaves it out and uses a sigstore-kms-gcpkms plugin on PATH.
import _ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
