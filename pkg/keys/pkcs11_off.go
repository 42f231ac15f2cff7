//go:build !pkcs11key || !cgo

package keys

import (
	"context"
	"errors"

	"github.com/sigstore/sigstore/pkg/signature"
)

// errNoPKCS11 is the one line a build without PKCS#11 gives: it needs cgo
// (the module is a C library), as cosign's does.
var errNoPKCS11 = errors.New("PKCS#11 keys are not supported by this build: build signet with CGO_ENABLED=1 -tags pkcs11key (make build-pkcs11; see docs/KEYS.md)")

// PKCS11Supported reports whether this build can use PKCS#11 tokens.
const PKCS11Supported = false

func loadPKCS11(context.Context, string, func(string) string) (signature.SignerVerifier, error) {
	return nil, errNoPKCS11
}

// ListPKCS11Tokens lists the tokens of a module.
func ListPKCS11Tokens(string) ([]PKCS11Token, error) { return nil, errNoPKCS11 }

// ListPKCS11Keys lists the private keys of the token in slot.
func ListPKCS11Keys(string, int, string) (string, []PKCS11Key, error) {
	return "", nil, errNoPKCS11
}
