// Package depcheck enforces the layering: core packages know nothing of
// the CLI, and the default binary carries no cloud SDK.
package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

func TestPkgDoesNotImportCLI(t *testing.T) {
	for _, pkg := range goList(t, "github.com/signetdev/signet/pkg/...") {
		for _, dep := range goList(t, "-deps", pkg) {
			if strings.HasPrefix(dep, "github.com/signetdev/signet/internal/cli") {
				t.Errorf("%s depends on %s: core packages must not know the CLI", pkg, dep)
			}
		}
	}
}

func TestNoCloudSDKInDefaultBuild(t *testing.T) {
	banned := []string{
		"cloud.google.com/go/kms", "github.com/aws/aws-sdk-go", "github.com/Azure/azure-sdk-for-go",
		"github.com/hashicorp/vault/api", "k8s.io/client-go",
	}
	deps := goList(t, "-deps", "github.com/signetdev/signet/cmd/signet")
	if len(deps) < 50 {
		t.Fatalf("suspiciously few deps (%d): is go list working?", len(deps))
	}
	for _, d := range deps {
		for _, b := range banned {
			if strings.HasPrefix(d, b) {
				t.Errorf("default build imports %s (cloud SDKs belong behind build tags)", d)
			}
		}
	}
}
