package engine

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/signetdev/signet/pkg/policy"
)

// TestServeRunsChecksAlongside: a quick check is answered while an
// endless one runs; a cancel stops that one, which answers with an
// error; answers carry their request's ID.
func TestServeRunsChecksAlongside(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- Serve(context.Background(), inR, outW); _ = outW.Close() }()
	answers := bufio.NewReader(outR)
	send := func(req *policy.Request) {
		t.Helper()
		if err := policy.WriteRequest(inW, req); err != nil {
			t.Fatal(err)
		}
	}
	answer := func() *policy.Response {
		t.Helper()
		resp, err := policy.ReadResponse(answers)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	send(&policy.Request{Op: policy.OpHello, Version: policy.ProtocolVersion, Concurrency: 2})
	if resp := answer(); resp.Version != policy.ProtocolVersion {
		t.Fatalf("hello: %+v", resp)
	}
	endless := "package signature\nallow { r := numbers.range(1, 5000); r[_] * r[_] * r[_] < 0 }\n"
	for i, src := range []policy.Source{{Name: "endless.rego", Lang: policy.Rego, Data: []byte(endless)}, {Name: "ok.cue", Lang: policy.CUE, Data: []byte("predicate: a: 1\n")}} {
		send(&policy.Request{Op: policy.OpCompile, ID: uint64(i + 1), Sources: []policy.Source{src}})
		if resp := answer(); resp.ID != uint64(i+1) || resp.Set != i+1 || resp.Error != "" {
			t.Fatalf("compile %s: %+v", src.Name, resp)
		}
	}
	st := []byte(`{"predicate":{"a":1}}`)
	send(&policy.Request{Op: policy.OpCheck, ID: 10, Set: 1, Statement: st})
	send(&policy.Request{Op: policy.OpCheck, ID: 11, Set: 2, Statement: st})
	if resp := answer(); resp.ID != 11 || resp.Error != "" || resp.Result == nil || resp.Result.Err() != nil {
		t.Fatalf("quick check beside an endless one: %+v", resp)
	}
	send(&policy.Request{Op: policy.OpCancel, ID: 10})
	if resp := answer(); resp.ID != 10 || !strings.Contains(resp.Error, "cancel") {
		t.Fatalf("cancelled check: %+v", resp)
	}
	send(&policy.Request{Op: "frobnicate", ID: 12})
	if resp := answer(); resp.ID != 12 || !strings.Contains(resp.Error, `unknown op "frobnicate"`) {
		t.Fatalf("unknown op: %+v", resp)
	}
	_ = inW.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

// TestServeAnswersBeforeExit: input that ends right after a check (as
// make bench feeds it) still gets the check's answer.
func TestServeAnswersBeforeExit(t *testing.T) {
	var in, out bytes.Buffer
	for _, req := range []*policy.Request{
		{Op: policy.OpHello, Version: policy.ProtocolVersion},
		{Op: policy.OpCompile, ID: 1, Sources: []policy.Source{{Name: "p.cue", Lang: policy.CUE, Data: []byte("predicate: a: 1\n")}}},
		{Op: policy.OpCheck, ID: 2, Set: 1, Statement: []byte(`{"predicate":{"a":2}}`)},
	} {
		if err := policy.WriteRequest(&in, req); err != nil {
			t.Fatal(err)
		}
	}
	if err := Serve(context.Background(), &in, &out); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(&out)
	var last *policy.Response
	for range 3 {
		resp, err := policy.ReadResponse(r)
		if err != nil {
			t.Fatal(err)
		}
		last = resp
	}
	if last.ID != 2 || last.Result == nil || last.Result.Err() == nil {
		t.Fatalf("the check's answer: %+v, want its failure", last)
	}
}
