//go:build kms_aws || kms_all

package keys

// Compiles sigstore's awskms:// provider into signet (-tags kms_aws). The
// default build leaves it out and uses the sigstore-kms-awskms plugin
// shipped beside signet (cmd/sigstore-kms).
import _ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
