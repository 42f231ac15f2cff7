// Package attestation holds the in-toto vocabulary signet shares between
// attesting and verifying: predicate type names and payload types.
package attestation

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// predicateTypes maps cosign's --type short names to predicate type URIs
// (cosign cmd/cosign/cli/options/predicate.go).
var predicateTypes = map[string]string{
	"custom":           "https://cosign.sigstore.dev/attestation/v1",
	"slsaprovenance":   "https://slsa.dev/provenance/v0.2",
	"slsaprovenance02": "https://slsa.dev/provenance/v0.2",
	"slsaprovenance1":  "https://slsa.dev/provenance/v1",
	"link":             "https://in-toto.io/Link/v1",
	"spdx":             "https://spdx.dev/Document",
	"spdxjson":         "https://spdx.dev/Document",
	"cyclonedx":        "https://cyclonedx.org/bom",
	"vuln":             "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":          "https://openvex.dev/ns",
}

// PredicateTypeURI turns a --type value (a short name or a URI) into the
// predicate type URI a statement carries.
func PredicateTypeURI(t string) (string, error) {
	if uri, ok := predicateTypes[t]; ok {
		return uri, nil
	}
	if u, err := url.ParseRequestURI(t); err == nil && u.Scheme != "" {
		return t, nil
	}
	return "", fmt.Errorf("invalid predicate type %q: want a URI or one of %s", t, strings.Join(ShortNames(), ", "))
}

// ShortNames lists the accepted short names, sorted.
func ShortNames() []string {
	names := make([]string, 0, len(predicateTypes))
	for n := range predicateTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
