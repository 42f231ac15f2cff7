package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signetdev/signet/internal/testing/shared"
)

func TestMain(m *testing.M) {
	// The same main under two names: `ln -s signet cosign` must behave
	// identically, so scripts run both.
	testscript.Main(m, map[string]func(){
		"signet": main,
		"cosign": main,
	})
}

// TestScripts runs testdata/script/*.txtar. Scripts that need the shared
// real-world vectors guard themselves with [!shared] skip.
func TestScripts(t *testing.T) {
	sharedDir, sharedErr := shared.Find()
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			if sharedErr == nil {
				env.Setenv("SHARED", sharedDir)
			}
			// A home of its own: no TUF cache from the developer's machine.
			env.Setenv("HOME", env.WorkDir+"/home")
			return os.MkdirAll(env.WorkDir+"/home", 0o755)
		},
		Condition: func(cond string) (bool, error) {
			if cond == "shared" {
				return sharedErr == nil, nil
			}
			return false, nil
		},
	})
}
