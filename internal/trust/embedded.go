package trust

import (
	_ "embed" // the public-good trust material below

	"github.com/sigstore/sigstore-go/pkg/root"
)

// EmbeddedDate is when the embedded trust material was taken (see
// embedded/README.md for where it came from).
const EmbeddedDate = "2026-11"

// The public-good trusted_root.json and TUF root.json, from the offline seed
// of @sigstore/tuf 5.0.1 (November 2026). Strings, so nothing can modify them.
var (
	//go:embed embedded/production-trusted-root.json
	embeddedTrustedRootJSON string
	//go:embed embedded/production-tuf-root.json
	embeddedTUFRootJSON string
)

// EmbeddedTrustedRoot parses the public-good trusted root embedded in
// signet. It is parsed on every call: callers that need it once pay once.
func EmbeddedTrustedRoot() (*root.TrustedRoot, error) {
	return root.NewTrustedRootFromJSON([]byte(embeddedTrustedRootJSON))
}

// EmbeddedTUFRoot returns a copy of the embedded TUF root.json of the
// public-good repository.
func EmbeddedTUFRoot() []byte { return []byte(embeddedTUFRootJSON) }
