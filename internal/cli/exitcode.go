package cli

import (
	"errors"
)

// Exit codes are cosign's (cmd/cosign/errors), so scripts written against
// cosign can tell "unsigned" from "signed by someone else".
const (
	ExitGeneric             = 1
	ExitNoMatchingSignature = 12
	ExitNoSignatures        = 10
	ExitImageTagNotFound    = 11
	ExitNoCertificate       = 13
)

// ExitError attaches an exit code to an error.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// WithExitCode wraps err so that Main exits with code.
func WithExitCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitGeneric
}
