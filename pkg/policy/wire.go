package policy

// The pipe protocol between signet (Process) and signet-policy
// (engine.Serve): one JSON document per line each way, a request and then
// its answer; signet writes the next request only after reading the
// answer. A Hello comes first so that a signet-policy of another release
// is refused by name instead of misread.

// ProtocolVersion changes whenever Request or Response does.
const ProtocolVersion = 1

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
	Set       int    `json:"set,omitempty"`
	Statement []byte `json:"statement,omitempty"`
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
