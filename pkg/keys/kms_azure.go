//go:build kms_azure || kms_all

package keys

// Compiles sigstore's azurekms:// provider into signet (-tags kms_azure). The
// default build leaves it out and uses the sigstore-kms-azurekms plugin
// shipped beside signet (cmd/sigstore-kms).
import _ "github.com/sigstore/sigstore/pkg/signature/kms/azure"
