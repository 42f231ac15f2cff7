//go:build e2e

// Package e2e holds end-to-end tests that run real clients against the
// local Sigstore stack (hack/local-stack). Run them with `make e2e`.
package e2e

import (
	"os"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack"
)

func TestMain(m *testing.M) { os.Exit(stack.Main(m)) }
