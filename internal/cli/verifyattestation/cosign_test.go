package verifyattestation_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// cosignLines keeps the lines cosign and signet share: the "will be
// validating" lines, the error count, the "- " lines and the summary
// error (signet's indented detail lines and the verification header are
// left out).
func cosignLines(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "will be validating") || strings.HasPrefix(l, "There are ") || strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "Error: ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPolicyGoldenAgainstCosign runs the golden table through the real
// cosign v3.1.3 (when hack/local-stack install has built it; skipped
// otherwise) and signet on the same attestations, bundles and legacy:
// same exit code, same lines.
func TestPolicyGoldenAgainstCosign(t *testing.T) {
	cosign, err := localstack.ToolBinary(localstack.DefaultConfig(), "cosign@"+localstack.CosignVersion, "cosign")
	if err != nil {
		t.Skip(err)
	}
	for _, legacy := range []bool{false, true} {
		fx := attested(t, legacy, "foobar test attestation")
		for _, tc := range golden {
			pol := fx.file(t, tc.file, tc.policy)
			cmd := exec.Command(cosign, "verify-attestation", "--type", "custom", "--key", fx.pub, "--insecure-ignore-tlog", "--policy", pol, fx.digest)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code := 0
			var ee *exec.ExitError
			if err := cmd.Run(); errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			r := fx.verify(t, fx.digest, nil, pol)
			if r.Code != code || cosignLines(r.Stderr) != cosignLines(stderr.String()) || (r.Stdout == "") != (stdout.Len() == 0) {
				t.Errorf("legacy=%v %s: cosign exit %d\n%s\nsignet exit %d\n%s", legacy, tc.name, code, cosignLines(stderr.String()), r.Code, cosignLines(r.Stderr))
			}
		}
	}
}
