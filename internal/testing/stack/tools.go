package stack

import (
	"testing"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// RequireSyft fails the test unless the pinned syft is installed (by
// hack/local-stack install) and returns its path.
func (e *Env) RequireSyft(t testing.TB) string {
	t.Helper()
	bin, err := localstack.ToolBinary(e.cfg, "syft@"+localstack.SyftVersion, "syft")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
