package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/pkg/keys"
)

// EnvPassword is the variable cosign reads a key password from. Set and
// empty means an empty password; unset means ask.
const EnvPassword = "COSIGN_PASSWORD"

// maxPipedPassword bounds a password read from a pipe.
const maxPipedPassword = 64 << 10

// errNoPassword is the answer when there is no way to get a password.
var errNoPassword = errors.New("no key password: set " + EnvPassword +
	` (` + EnvPassword + `="" for an empty one), pipe it on stdin, or run on a terminal to be asked`)

// PasswordFunc returns the key password source cosign users expect, in
// cosign's order:
//  1. COSIGN_PASSWORD, when set (even to ""), as is;
//  2. on a terminal, a prompt on stderr read without echo ("again" when
//     confirming; two different answers are an error);
//  3. otherwise stdin, read to the end, byte for byte as cosign does (a
//     trailing newline is part of the password). Empty stdin is an error
//     rather than cosign's silent empty password. A piped password is read
//     once and reused by later calls.
//
// Nothing it reads is ever written anywhere.
func PasswordFunc(f *Factory) keys.PassFunc {
	ios := f.IOStreams
	var readTerm func() ([]byte, error)
	if fd, ok := stdinTerminal(ios); ok {
		readTerm = func() ([]byte, error) { return term.ReadPassword(fd) }
	}
	return passwordFunc(f.lookupEnv, ios, readTerm)
}

func (f *Factory) lookupEnv(name string) (string, bool) {
	if f.LookupEnv != nil {
		return f.LookupEnv(name)
	}
	if f.Getenv != nil {
		if v := f.Getenv(name); v != "" {
			return v, true
		}
	}
	return "", false
}

// stdinTerminal returns stdin's descriptor when it is a real terminal (a
// character device such as /dev/null is not one).
func stdinTerminal(ios *iostreams.IOStreams) (int, bool) {
	if !ios.IsStdinTTY() {
		return 0, false
	}
	f, ok := ios.In.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// passwordFunc is PasswordFunc with the terminal reader injected (nil: no
// terminal).
func passwordFunc(lookup func(string) (string, bool), ios *iostreams.IOStreams, readTerm func() ([]byte, error)) keys.PassFunc {
	var once sync.Once
	var piped []byte
	var pipedErr error
	return func(confirm bool) ([]byte, error) {
		if v, ok := lookup(EnvPassword); ok {
			return []byte(v), nil
		}
		if readTerm != nil {
			return promptPassword(ios.ErrOut, readTerm, confirm)
		}
		once.Do(func() {
			piped, pipedErr = fileutil.ReadAllLimit(ios.In, maxPipedPassword)
			if pipedErr != nil {
				pipedErr = fmt.Errorf("reading the key password from stdin: %w", pipedErr)
			} else if len(piped) == 0 {
				pipedErr = errNoPassword
			}
		})
		if pipedErr != nil {
			return nil, pipedErr
		}
		return append([]byte(nil), piped...), nil
	}
}

func promptPassword(w io.Writer, readTerm func() ([]byte, error), confirm bool) ([]byte, error) {
	fmt.Fprint(w, "Enter password for private key: ")
	pw, err := readTerm()
	fmt.Fprintln(w)
	if err != nil {
		return nil, fmt.Errorf("reading the key password: %w", err)
	}
	if !confirm {
		return pw, nil
	}
	fmt.Fprint(w, "Enter password for private key again: ")
	again, err := readTerm()
	fmt.Fprintln(w)
	if err != nil {
		return nil, fmt.Errorf("reading the key password: %w", err)
	}
	same := string(pw) == string(again)
	clear(again)
	if !same {
		clear(pw)
		return nil, errors.New("passwords do not match")
	}
	return pw, nil
}

// ErrPromptDeclined is the answer to a confirmation the user refused (or
// could not give: end of input).
var ErrPromptDeclined = errors.New("user declined the prompt")

// ConfirmContinue asks cosign's question on stderr and reads one line of
// stdin: "y" or "Y" continues; "", "n", "N" and end of input decline; any
// other answer is an error (which does not quote it). Non-interactive runs therefore decline unless
// "y" is piped in, as in cosign.
func ConfirmContinue(ios *iostreams.IOStreams) error {
	fmt.Fprint(ios.ErrOut, "Are you sure you would like to continue? [y/N] ")
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if errors.Is(err, io.EOF) || !ios.IsStdinTTY() {
		fmt.Fprintln(ios.ErrOut) // no newline was echoed: keep what follows on its own line
	}
	switch strings.ToLower(strings.Trim(line, "\r\n")) {
	case "y":
		return nil
	case "", "n":
		return ErrPromptDeclined
	default:
		// cosign quotes the answer; signet does not, in case a password
		// meant for another prompt was piped in.
		return errors.New("invalid input (allowed values y, n)")
	}
}
