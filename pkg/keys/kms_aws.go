//go:build kms_aws || kms_all

package keys

// Compiles sigstore's awskms:// provider into signet (-tags kms_aws). The
// default build leaves it out and uses a sigstore-kms-awskms plugin on PATH.
import _ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
