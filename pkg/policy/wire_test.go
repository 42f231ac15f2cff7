package policy

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestRequestFraming: a statement travels after its line, byte for byte
// (newlines and all), and a request cut short or claiming an impossible
// length is an error, not a misread.
func TestRequestFraming(t *testing.T) {
	var buf bytes.Buffer
	st := []byte("{\"a\":\n\"\\u0000\xff\"}\n")
	for _, req := range []*Request{{Op: OpHello, Version: ProtocolVersion}, {Op: OpCheck, Set: 3, Statement: st}, {Op: OpForget, Set: 3}} {
		if err := WriteRequest(&buf, req); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(bytes.NewReader(buf.Bytes()))
	for i, want := range []string{OpHello, OpCheck, OpForget} {
		req, err := ReadRequest(r)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if req.Op != want || (want == OpCheck && (req.Set != 3 || !bytes.Equal(req.Statement, st))) {
			t.Fatalf("request %d: got %+v", i, req)
		}
	}
	if _, err := ReadRequest(r); err != io.EOF {
		t.Fatalf("after the last request: %v, want io.EOF", err)
	}
	for in, want := range map[string]string{
		`{"op":"check","set":1,"statement_len":10}` + "\nabc":        "a statement of 10 bytes",
		`{"op":"check","set":1,"statement_len":-1}` + "\n":           "a statement of -1 bytes",
		`{"op":"check","set":1,"statement_len":999999999999}` + "\n": "a statement of 999999999999 bytes",
		`{"op":"check"`: "the input ended within a request",
		"not json\n":    "invalid character",
	} {
		_, err := ReadRequest(bufio.NewReader(strings.NewReader(in)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}
