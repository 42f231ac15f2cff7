package artifact

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSum(t *testing.T) {
	// Larger than one pipeline buffer, and not a multiple of it.
	content := bytes.Repeat([]byte("signet "), (3*pipeBufferSize)/7+5)
	a := Artifact{Name: "x", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }}
	sums, err := Sum(a, crypto.SHA256, crypto.SHA512)
	if err != nil {
		t.Fatal(err)
	}
	s256, s512 := sha256.Sum256(content), sha512.Sum512(content)
	if !bytes.Equal(sums[crypto.SHA256], s256[:]) || !bytes.Equal(sums[crypto.SHA512], s512[:]) {
		t.Fatal("digests differ from crypto's")
	}
	empty := Artifact{Name: "e", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("")), nil }}
	if sums, err := Sum(empty, crypto.SHA256); err != nil || !bytes.Equal(sums[crypto.SHA256], func() []byte { s := sha256.Sum256(nil); return s[:] }()) {
		t.Fatalf("empty artifact: %v", err)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk on fire")
	}
	f.n--
	return copy(p, "abc"), nil
}

func TestSumReadError(t *testing.T) {
	a := Artifact{Name: "broken", Open: func() (io.ReadCloser, error) { return io.NopCloser(&failingReader{n: 3}), nil }}
	if _, err := Sum(a, crypto.SHA256); err == nil || !strings.Contains(err.Error(), "reading artifact broken: disk on fire") {
		t.Fatalf("err %v", err)
	}
	if _, err := Sum(Artifact{Name: "d"}, crypto.SHA256); err == nil {
		t.Fatal("a digest-only artifact was hashed")
	}
}

func TestParseDigest(t *testing.T) {
	ok := "sha256:" + strings.Repeat("ab", 32)
	if d, err := ParseDigest(ok); err != nil || d.String() != ok {
		t.Fatalf("%v %v", d, err)
	}
	if d, err := ParseDigest("SHA2_512:" + strings.Repeat("00", 64)); err != nil || d.Algorithm != crypto.SHA512 {
		t.Fatalf("bundle spelling: %v %v", d, err)
	}
	for _, bad := range []string{"sha256", "md5:00", "sha256:zz", "sha256:abcd", "sha512:" + strings.Repeat("ab", 32)} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
