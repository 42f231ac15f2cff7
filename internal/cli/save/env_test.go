package save_test

import (
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
)

// TestSaveLoadReadCosignEnv: save and load read their flags from
// COSIGN_<FLAG> as cosign's do (options.BindViper; cosign-compat.md §1).
func TestSaveLoadReadCosignEnv(t *testing.T) {
	for _, verb := range []string{"save", "load"} {
		r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_ATTACHMENT_TAG_PREFIX": "p", "COSIGN_DIR": t.TempDir()}}, verb, "registry.example/app:v1")
		r.CheckErrorLine(t)
		if !strings.Contains(r.ErrLine(), "--attachment-tag-prefix") {
			t.Errorf("%s: COSIGN_ATTACHMENT_TAG_PREFIX not read: %s", verb, r.ErrLine())
		}
	}
}
