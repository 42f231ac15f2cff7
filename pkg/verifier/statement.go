package verifier

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"

	"github.com/signetdev/signet/pkg/attestation"

	"github.com/signetdev/signet/pkg/artifact"
)

// statementSubjects is the part of an in-toto statement that picks the
// digest to verify against.
type statementSubjects struct {
	Subject []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
}

// parseSubjects reads the subjects of an envelope's in-toto statement. The
// envelope is not verified yet, and the subjects only pick which digest of
// the artifact to compute: sigstore-go then decodes the whole statement
// itself and checks that digest against its subjects, so this decode need
// not be protojson's. It is not: protojson builds every value of the
// predicate as a structpb (for a 5 MB SBOM, a third of the run), where
// encoding/json skips what it does not keep.
func parseSubjects(env *protodsse.Envelope) (*statementSubjects, error) {
	if env.GetPayloadType() != attestation.PayloadType {
		return nil, fmt.Errorf("DSSE payload type is %q, want %q: not an in-toto statement, so there is no subject to match the artifact with", env.GetPayloadType(), attestation.PayloadType)
	}
	var st statementSubjects
	if err := json.Unmarshal(env.GetPayload(), &st); err != nil {
		return nil, fmt.Errorf("DSSE payload is not a valid in-toto statement: %w", err)
	}
	return &st, nil
}

// subjectDigests groups the statement's subject digests by algorithm,
// keeping only the algorithms signet can compute.
func subjectDigests(st *statementSubjects) map[crypto.Hash][][]byte {
	out := map[crypto.Hash][][]byte{}
	for _, s := range st.Subject {
		for alg, hexValue := range s.Digest {
			h, err := artifact.HashByName(alg)
			if err != nil {
				continue
			}
			v, err := hex.DecodeString(hexValue)
			if err != nil {
				continue
			}
			out[h] = append(out[h], v)
		}
	}
	return out
}

// matchSubject returns the first artifact digest that is a subject, or an
// error listing what the artifact is and what the statement names.
func matchSubject(subjects map[crypto.Hash][][]byte, ds []artifact.Digest, name string) (artifact.Digest, error) {
	for _, d := range ds {
		for _, v := range subjects[d.Algorithm] {
			if bytes.Equal(v, d.Value) {
				return d, nil
			}
		}
	}
	have := make([]string, len(ds))
	for i, d := range ds {
		have[i] = d.String()
	}
	var want []string
	for alg, vs := range subjects {
		for _, v := range vs {
			want = append(want, artifact.Digest{Algorithm: alg, Value: v}.String())
		}
	}
	sort.Strings(want)
	if len(want) == 0 {
		want = []string{"none"}
	}
	return artifact.Digest{}, fmt.Errorf("artifact is not a subject of the attestation: %s is %s, the statement's subjects are %s", name, strings.Join(have, ", "), strings.Join(want, ", "))
}
