package main

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signetdev/signet/internal/testing/shared"
	"github.com/signetdev/signet/pkg/policy/engine"
)

func TestMain(m *testing.M) {
	// The same main under two names: `ln -s signet cosign` must behave
	// identically, so scripts run both.
	testscript.Main(m, map[string]func(){
		"signet": main,
		"cosign": main,
		// The engine signet runs for --policy, found on the scripts' PATH.
		"signet-policy": func() {
			if err := engine.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
				log.Fatal(err)
			}
			os.Exit(0)
		},
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"registry-image": registryImage,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "shared" {
				return sharedErr == nil, nil
			}
			return false, nil
		},
	})
}

// registryImage starts an in-process registry (with the referrers API)
// for the script's lifetime and pushes a random image to it as
// REPO:v1; it sets $IMAGE (the tag) and $DIGEST (the digest reference).
// The verbs that read a registry (tree, triangulate…) have no other way
// to run in a script.
func registryImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: registry-image REPO")
	}
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	ts.Defer(srv.Close)
	img, err := random.Image(256, 1)
	ts.Check(err)
	tag, err := name.NewTag(strings.TrimPrefix(srv.URL, "http://") + "/" + args[0] + ":v1")
	ts.Check(err)
	ts.Check(remote.Write(tag, img))
	h, err := img.Digest()
	ts.Check(err)
	ts.Setenv("IMAGE", tag.String())
	ts.Setenv("DIGEST", tag.Context().Digest(h.String()).String())
}
