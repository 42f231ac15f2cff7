// Command policyrequest writes, for hack/bench.sh, the requests signet
// sends signet-policy to judge one statement with one policy, and checks
// signet-policy's answers to them. It writes them with pkg/policy's own
// code, so that the bench follows the pipe protocol when it changes
// instead of breaking silently.
//
//	go run ./hack/policyrequest -policy p.cue -statement st.json >req
//	signet-policy <req | go run ./hack/policyrequest -answers
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/signetdev/signet/pkg/policy"
)

func main() {
	policyFile := flag.String("policy", "", "the policy file (.cue or .rego)")
	statementFile := flag.String("statement", "", "the in-toto statement (JSON)")
	answers := flag.Bool("answers", false, "read signet-policy's answers on stdin; exit 0 when the statement passed")
	flag.Parse()
	var err error
	if *answers {
		err = checkAnswers(os.Stdin)
	} else {
		err = writeFiles(os.Stdout, *policyFile, *statementFile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "policyrequest:", err)
		os.Exit(1)
	}
}

func writeFiles(w io.Writer, policyFile, statementFile string) error {
	if policyFile == "" || statementFile == "" {
		return errors.New("-policy and -statement are required")
	}
	lang, err := policy.LangOf(policyFile)
	if err != nil {
		return fmt.Errorf("-policy %s: %w", policyFile, err)
	}
	data, err := os.ReadFile(policyFile)
	if err != nil {
		return err
	}
	st, err := os.ReadFile(statementFile)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := writeRequests(bw, policy.Source{Name: filepath.Base(policyFile), Lang: lang, Data: data}, st); err != nil {
		return err
	}
	return bw.Flush()
}

// writeRequests writes what signet sends a fresh signet-policy to judge
// statement with src under cosign's conventions: a hello, a compile, and
// a check of the first set the engine compiles.
func writeRequests(w io.Writer, src policy.Source, statement []byte) error {
	for _, req := range []*policy.Request{
		{Op: policy.OpHello, ID: 1, Version: policy.ProtocolVersion, Concurrency: 1},
		{Op: policy.OpCompile, ID: 2, Convention: policy.CosignCLI, Sources: []policy.Source{src}},
		{Op: policy.OpCheck, ID: 3, Set: 1, Statement: statement},
	} {
		if err := policy.WriteRequest(w, req); err != nil {
			return err
		}
	}
	return nil
}

// checkAnswers reads the answers to writeRequests's requests: the hello
// must name this protocol, the compile set 1, and the check pass.
func checkAnswers(r io.Reader) error {
	br := bufio.NewReader(r)
	got := map[uint64]*policy.Response{}
	for range 3 {
		resp, err := policy.ReadResponse(br)
		if err != nil {
			return fmt.Errorf("answer %d: %w", len(got)+1, err)
		}
		got[resp.ID] = resp
	}
	hello, compiled, checked := got[1], got[2], got[3]
	switch {
	case hello == nil || compiled == nil || checked == nil:
		return fmt.Errorf("answers to requests %v, want 1, 2 and 3", keys(got))
	case hello.Version != policy.ProtocolVersion:
		return fmt.Errorf("the engine speaks protocol %d, this code %d", hello.Version, policy.ProtocolVersion)
	case compiled.Error != "" || compiled.Set != 1:
		return fmt.Errorf("compile: set %d, error %q", compiled.Set, compiled.Error)
	case checked.Error != "":
		return fmt.Errorf("check: %s", checked.Error)
	case checked.Result != nil:
		if err := checked.Result.Err(); err != nil {
			return fmt.Errorf("check: the statement failed the policy: %w", err)
		}
	}
	return nil
}

func keys(m map[uint64]*policy.Response) []uint64 {
	var ks []uint64
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
