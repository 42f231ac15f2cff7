package signer

import (
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signetdev/signet/pkg/keys"
)

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// verifierFor is the verifier a bundle signed with key is checked with.
func verifierFor(key *Key) (signature.Verifier, error) {
	return keys.Verifier(key.PublicKey())
}
