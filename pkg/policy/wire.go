package policy

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The pipe protocol between signet (Process) and signet-policy
// (engine.Serve): one JSON document per line each way, a request and then
// its answer; signet writes the next request only after reading the
// answer. A check request's statement follows its line as raw bytes
// (StatementLen of them): as base64 inside the JSON line, a 5 MB SBOM cost
// signet-policy a tenth of a second to scan and decode, a third of a Rego
// evaluation. A Hello comes first so that a signet-policy of another
// release is refused by name instead of misread.

// ProtocolVersion changes whenever Request or Response does.
const ProtocolVersion = 2

// Ops of a Request.
const (
	OpHello   = "hello"
	OpCompile = "compile"
	OpCheck   = "check"
	OpForget  = "forget"
)

// Request is one line from signet to signet-policy.
type Request struct {
	Op      string `json:"op"`
	Version int    `json:"version,omitempty"` // hello
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
	line, err := readLine(r, maxLine)
	if err == io.ErrUnexpectedEOF {
		return nil, errors.New("the input ended within a request")
	}
	if err != nil {
		return nil, err
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
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
	line, err := readLine(r, maxLine)
	if err == io.ErrUnexpectedEOF {
		return nil, errors.New("the engine exited")
	}
	if err != nil {
		return nil, err
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
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
