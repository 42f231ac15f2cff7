//go:build kms_hashivault || kms_all

package keys

// Compiles sigstore's hashivault:// provider into signet (-tags kms_hashivault). The
// default build leaves it out and uses a sigstore-kms-hashivault plugin on PATH.
import _ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
