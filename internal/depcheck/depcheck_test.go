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

// TestPolicyEnginesOutOfSignet: the CUE and Rego engines cost more
// start-up time and memory than the rest of signet together (issue 9's
// budgets); they live in signet-policy, which signet runs when a policy
// is to be judged.
func TestPolicyEnginesOutOfSignet(t *testing.T) {
	engines := []string{"cuelang.org/go", "github.com/open-policy-agent/opa"}
	has := func(main string) map[string]bool {
		found := map[string]bool{}
		for _, d := range goList(t, "-deps", main) {
			for _, e := range engines {
				if strings.HasPrefix(d, e+"/") {
					found[e] = true
				}
			}
		}
		return found
	}
	if got := has("github.com/signetdev/signet/cmd/signet"); len(got) > 0 {
		t.Errorf("cmd/signet links %v: the engines belong to cmd/signet-policy", got)
	}
	if got := has("github.com/signetdev/signet/cmd/signet-policy"); len(got) != len(engines) {
		t.Errorf("cmd/signet-policy links only %v of %v", got, engines)
	}
}
