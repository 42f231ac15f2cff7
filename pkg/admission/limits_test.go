package admission

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// padTo pads a JSON or YAML document with trailing spaces to n bytes:
// both parsers ignore them, so the document is exactly n bytes long.
func padTo(t *testing.T, doc string, n int) []byte {
	t.Helper()
	if len(doc) > n {
		t.Fatalf("document of %d bytes is already past %d", len(doc), n)
	}
	return append([]byte(doc), bytes.Repeat([]byte{' '}, n-len(doc))...)
}

// An AdmissionReview body of MaxReviewSize (8 MiB) bytes is read; one
// byte more is refused without being parsed.
func TestReviewAtAndPastTheLimit(t *testing.T) {
	const doc = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"CREATE"}}`
	rv, err := DecodeReview(bytes.NewReader(padTo(t, doc, MaxReviewSize)), MaxReviewSize, false)
	if err != nil || rv.Request.UID != "x" {
		t.Fatalf("at the limit: %v", err)
	}
	_, err = DecodeReview(bytes.NewReader(padTo(t, doc, MaxReviewSize+1)), MaxReviewSize, false)
	if !errors.Is(err, ErrReviewTooLarge) {
		t.Fatalf("past the limit: %v", err)
	}
}

// A ClusterImagePolicy file (or object) of MaxPolicySize (4 MiB) bytes is
// parsed; one byte more is refused before the YAML parser sees it.
func TestPolicyFileAtAndPastTheLimit(t *testing.T) {
	doc := keylessCIP("big", "**", gitlabSubject)
	cips, err := ParsePolicyFile(padTo(t, doc, MaxPolicySize))
	if err != nil || len(cips) != 1 || cips[0].Metadata.Name != "big" {
		t.Fatalf("at the limit: %d policies, %v", len(cips), err)
	}
	_, err = ParsePolicyFile(padTo(t, doc, MaxPolicySize+1))
	if err == nil || !strings.Contains(err.Error(), "larger than 4194304 bytes") {
		t.Fatalf("past the limit: %v", err)
	}
}
