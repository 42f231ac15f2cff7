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
	for _, req := range []*Request{{Op: OpHello, Version: ProtocolVersion, Concurrency: 2}, {Op: OpCheck, ID: 7, Set: 3, Statement: st}, {Op: OpCancel, ID: 7}, {Op: OpForget, ID: 8, Set: 3}} {
		if err := WriteRequest(&buf, req); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(bytes.NewReader(buf.Bytes()))
	for i, want := range []string{OpHello, OpCheck, OpCancel, OpForget} {
		req, err := ReadRequest(r)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if req.Op != want || (want == OpCheck && (req.ID != 7 || req.Set != 3 || !bytes.Equal(req.Statement, st))) ||
			(want == OpHello && req.Concurrency != 2) || (want == OpCancel && req.ID != 7) || (want == OpForget && req.ID != 8) {
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

// FuzzReadRequest: whatever comes down the pipe, the engine's reader
// returns requests or an error, never panics, and a request it returns
// travels again unchanged.
func FuzzReadRequest(f *testing.F) {
	var seed bytes.Buffer
	for _, req := range []*Request{
		{Op: OpHello, Version: ProtocolVersion, Concurrency: 4},
		{Op: OpCompile, ID: 1, Sources: []Source{{Name: "a.cue", Lang: CUE, Data: []byte("x: 1")}}},
		{Op: OpCheck, ID: 2, Set: 1, Statement: []byte(`{"a":1}` + "\n")},
		{Op: OpCancel, ID: 2},
	} {
		_ = WriteRequest(&seed, req)
	}
	f.Add(seed.Bytes())
	f.Add([]byte(`{"op":"check","id":18446744073709551615,"statement_len":3}` + "\nab"))
	f.Add([]byte(`{"op":"check","id":-1}` + "\n"))
	f.Add([]byte("{}\n{}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for range 16 {
			req, err := ReadRequest(r)
			if err != nil {
				return
			}
			var again bytes.Buffer
			if err := WriteRequest(&again, req); err != nil {
				t.Fatalf("writing %+v: %v", req, err)
			}
			back, err := ReadRequest(bufio.NewReader(&again))
			if err != nil {
				t.Fatalf("reading back %+v: %v", req, err)
			}
			if back.Op != req.Op || back.ID != req.ID || back.Set != req.Set || back.Concurrency != req.Concurrency || !bytes.Equal(back.Statement, req.Statement) {
				t.Fatalf("read back %+v, want %+v", back, req)
			}
		}
	})
}
