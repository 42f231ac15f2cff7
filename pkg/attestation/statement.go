package attestation

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// StatementType is the in-toto statement type cosign writes.
const StatementType = "https://in-toto.io/Statement/v0.1"

// Subject is what a statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto statement.
type Statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []Subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

// required are the fields cosign insists a predicate of that type has
// (the JSON fields of its Go struct without omitempty), with the JSON kind
// each must be: cosign decodes the file into that struct, so a field of
// another kind fails there, and unknown fields vanish (signet keeps them).
var required = map[string][]field{
	"slsaprovenance":   {{"builder", "object"}, {"buildType", "string"}},
	"slsaprovenance02": {{"builder", "object"}, {"buildType", "string"}},
	"slsaprovenance1":  {{"buildDefinition", "object"}, {"runDetails", "object"}},
	"link": {{"_type", "string"}, {"name", "string"}, {"materials", "object"}, {"products", "object"},
		{"byproducts", "object"}, {"command", "array"}, {"environment", "object"}},
}

type field struct{ name, kind string }

// decodeExact decodes JSON keeping numbers as written (json.Number), so
// re-encoding the predicate never rounds a large or precise number.
func decodeExact(data []byte, v any) error {
	if !json.Valid(data) {
		return json.Unmarshal(data, v) // for its error
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// kindOf names a decoded JSON value's kind; null fits every kind, as
// encoding/json decodes it into any field.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	}
	return "number or boolean"
}

// NewStatement builds the statement cosign's attest-blob builds: the
// subject is name with its sha256 digest; the predicate is the file as
// given, shaped by the --type short name (custom wraps it as
// {"Data","Timestamp"}, spdx keeps tag-value text as a string, every other
// type must be JSON).
func NewStatement(typeFlag, subjectName string, sha256 []byte, predicate []byte, now time.Time) ([]byte, error) {
	uri, err := PredicateTypeURI(typeFlag)
	if err != nil {
		return nil, err
	}
	var pred any
	switch typeFlag {
	case "custom":
		pred = struct {
			Data      string
			Timestamp string
		}{string(predicate), now.UTC().Format(time.RFC3339)}
	case "spdx":
		pred = string(predicate)
	case "vuln":
		raw, err := VulnPredicate(predicate)
		if err != nil {
			return nil, err
		}
		pred = json.RawMessage(raw)
	default:
		if err := decodeExact(predicate, &pred); err != nil {
			return nil, fmt.Errorf("predicate for type %s is not JSON: %w", typeFlag, err)
		}
		if keys := required[typeFlag]; keys != nil {
			obj, ok := pred.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("predicate for type %s must be a JSON object", typeFlag)
			}
			var missing, wrong []string
			for _, k := range keys {
				v, ok := obj[k.name]
				switch {
				case !ok:
					missing = append(missing, k.name)
				case kindOf(v) != k.kind && kindOf(v) != "null":
					wrong = append(wrong, fmt.Sprintf("%s is a JSON %s, want %s", k.name, kindOf(v), k.kind))
				}
			}
			if len(missing) == 1 && len(wrong) == 0 {
				return nil, fmt.Errorf("predicate for type %s: required field %s missing", typeFlag, missing[0])
			}
			if len(missing) > 0 || len(wrong) > 0 {
				if len(missing) > 0 {
					wrong = append([]string{"required fields missing: " + strings.Join(missing, ", ")}, wrong...)
				}
				return nil, fmt.Errorf("predicate for type %s does not fit its schema: %s", typeFlag, strings.Join(wrong, "; "))
			}
		}
	}
	raw, err := json.Marshal(pred)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Statement{
		Type:          StatementType,
		PredicateType: uri,
		Subject:       []Subject{{Name: subjectName, Digest: map[string]string{"sha256": hex.EncodeToString(sha256)}}},
		Predicate:     raw,
	})
}

// ParseStatement checks a ready-made statement (--statement): an in-toto
// statement with a predicate type and at least one subject with a digest.
func ParseStatement(data []byte) (*Statement, error) {
	var st Statement
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %w", err)
	}
	switch {
	case st.Type != StatementType && st.Type != "https://in-toto.io/Statement/v1":
		return nil, fmt.Errorf("_type is %q, want an in-toto statement type", st.Type)
	case st.PredicateType == "":
		return nil, errors.New("no predicateType")
	case len(st.Subject) == 0:
		return nil, errors.New("no subject")
	}
	for i, s := range st.Subject {
		if len(s.Digest) == 0 {
			return nil, fmt.Errorf("subject %d (%q) has no digest", i+1, s.Name)
		}
	}
	return &st, nil
}
