package policy

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The pipe protocol between signet (Process) and signet-policy
// (engine.Serve): one JSON document per line each way. Every request
// carries an ID its answer repeats, and answers come in any order: the
// engine answers hello, compile and forget in turn, before it reads the
// next request, but runs checks alongside each other, up to the number
// hello asked for, and answers each when it is done. A cancel asks the
// engine to stop the check of its ID, which then answers (an error) as
// any check does; the cancel itself has no answer. A check request's
// statement follows its line as raw bytes (StatementLen of them): as
// base64 inside the JSON line, a 5 MB SBOM cost signet-policy a tenth of
// a second to scan and decode, a third of a Rego evaluation. A Hello
// comes first so that a signet-policy of another release is refused by
// name instead of misread.

// ProtocolVersion changes whenever Request or Response does, or what
// they mean. 3: request IDs, concurrent checks, cancel.
const ProtocolVersion = 3

// Ops of a Request.
const (
	OpHello   = "hello"
	OpCompile = "compile"
	OpCheck   = "check"
	OpForget  = "forget"
	OpCancel  = "cancel"
)

// MaxConcurrency bounds how many checks one engine runs at once, whatever
// a hello asks: each holds its statement as the engine's values, tens to
// hundreds of MiB for a large one.
const MaxConcurrency = 16

// Request is one line from signet to signet-policy.
type Request struct {
	Op string `json:"op"`
	// ID names the request in its answer; cancel names the check's.
	ID uint64 `json:"id"`
	// hello
	Version     int `json:"version,omitempty"`
	Concurrency int `json:"concurrency,omitempty"` // checks at once; 0 is 1
	// compile
	Convention Convention `json:"convention,omitempty"`
	Sources    []Source   `json:"sources,omitempty"`
	// check and forget: the set a compile answered with
	Set int `json:"set,omitempty"`
	// Statement is sent after the line, StatementLen bytes.
	Statement    []byte `json:"-"`
	StatementLen int    `json:"statement_len,omitempty"`
}

// Response is one line from signet-policy to signet.
type Response struct {
	ID      uint64  `json:"id"`                // the request's
	Version int     `json:"version,omitempty"` // hello
	Set     int     `json:"set,omitempty"`     // compile
	Result  *Result `json:"result,omitempty"`  // check
	// Error is a compile error (a policy that does not compile) or a
	// statement that cannot be evaluated, in the engine's words.
	Error string `json:"error,omitempty"`
}

// maxLine bounds one line of the protocol: a request carries a statement
// (bounded by its caller; attestations are read with a limit), an answer
// a result.
const maxLine = 256 << 20

// WriteRequest sends req: its line, then its statement.
func WriteRequest(w io.Writer, req *Request) error {
	req.StatementLen = len(req.Statement)
	line, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return err
	}
	if len(req.Statement) > 0 {
		_, err = w.Write(req.Statement)
	}
	return err
}

// ReadRequest reads one request; io.EOF when the input ends before one.
func ReadRequest(r *bufio.Reader) (*Request, error) {
	if _, err := r.Peek(1); err == io.EOF {
		return nil, io.EOF
	}
	var req Request
	if err := readJSONLine(r, &req, "the input ended within a request"); err != nil {
		return nil, err
	}
	if req.StatementLen < 0 || req.StatementLen > maxLine {
		return nil, fmt.Errorf("a statement of %d bytes (at most %d)", req.StatementLen, maxLine)
	}
	if req.StatementLen > 0 {
		req.Statement = make([]byte, req.StatementLen)
		if _, err := io.ReadFull(r, req.Statement); err != nil {
			return nil, fmt.Errorf("a statement of %d bytes: %w", req.StatementLen, err)
		}
	}
	return &req, nil
}

// ReadResponse reads one answer.
func ReadResponse(r *bufio.Reader) (*Response, error) {
	var resp Response
	if err := readJSONLine(r, &resp, "the engine exited"); err != nil {
		return nil, err
	}
	return &resp, nil
}

// readJSONLine decodes one line into v; ended is the error when the
// input ends first.
func readJSONLine(r *bufio.Reader, v any, ended string) error {
	line, err := readLine(r, maxLine)
	if err == io.ErrUnexpectedEOF {
		return errors.New(ended)
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
}

// readLine reads one line of at most max bytes; io.ErrUnexpectedEOF when
// the input ends first.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > max {
			return nil, fmt.Errorf("a line longer than %d bytes", max)
		}
		line = append(line, frag...)
		if err == nil {
			return line, nil
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}
