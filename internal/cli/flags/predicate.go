package flags

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/pkg/attestation"
)

// Predicate is what attest and attest-blob sign: a --predicate of --type
// made into a statement, or a ready --statement.
type Predicate struct {
	Predicate      string
	Statement      string
	Type           string
	RekorEntryType string
}

// AddFlags registers the flags.
func (o *Predicate) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Predicate, "predicate", "", "path to the predicate file.")
	fs.StringVar(&o.Statement, "statement", "", "path to the statement file.")
	fs.StringVar(&o.Type, "type", "custom", "specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI")
	fs.StringVar(&o.RekorEntryType, "rekor-entry-type", "dsse", "specifies the type to be used for a rekor entry upload (dsse|intoto)")
	deprecated(fs, "rekor-entry-type", "support for this flag will be removed in the future. it is strongly discouraged to rely on Rekor for attestation storage")
}

// MaxInputFile bounds a predicate or statement read into memory.
const MaxInputFile = 128 << 20

// Validate checks the flags without reading anything.
func (o *Predicate) Validate() error {
	if (o.Predicate == "") == (o.Statement == "") {
		return errors.New("one of --predicate or --statement must be set")
	}
	if o.RekorEntryType != "dsse" && o.RekorEntryType != "intoto" {
		return fmt.Errorf("--rekor-entry-type %q: want dsse or intoto", o.RekorEntryType)
	}
	if o.Predicate != "" {
		if _, err := attestation.PredicateTypeURI(o.Type); err != nil {
			return fmt.Errorf("--type: %w", err)
		}
	}
	return nil
}

// ReadStatement reads and checks --statement.
func (o *Predicate) ReadStatement() ([]byte, error) {
	data, err := fileutil.ReadLimit(o.Statement, MaxInputFile)
	if err != nil {
		return nil, fmt.Errorf("--statement %s: %w", o.Statement, err)
	}
	if _, err := attestation.ParseStatement(data); err != nil {
		return nil, fmt.Errorf("--statement %s: %w", o.Statement, err)
	}
	return data, nil
}

// ReadPredicate reads --predicate.
func (o *Predicate) ReadPredicate() ([]byte, error) {
	data, err := fileutil.ReadLimit(o.Predicate, MaxInputFile)
	if err != nil {
		return nil, fmt.Errorf("--predicate %s: %w", o.Predicate, err)
	}
	return data, nil
}
