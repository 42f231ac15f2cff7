//go:build kms_hashivault || kms_all

package keys

// Compiles sigstore's hashivault:// provider into signet (-tags kms_hashivault). The
// default build leaves it out and uses the sigstore-kms-hashivault plugin
// shipped beside signet (cmd/sigstore-kms).
import _ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
