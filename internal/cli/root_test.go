package cli_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
)

// probe is a verb that records the flags it saw.
type probe struct {
	key, identity, chain string
	yes                  bool
	list                 []string
	ranWith              context.Context
	err                  error
}

func (p *probe) cmd(f *cli.Factory) *cobra.Command {
	c := &cobra.Command{
		Use: "probe",
		RunE: func(cmd *cobra.Command, _ []string) error {
			p.ranWith = cmd.Context()
			cmd.OutOrStdout().Write([]byte("out\n"))
			return p.err
		},
	}
	c.Flags().StringVar(&p.key, "key", "", "")
	c.Flags().StringVar(&p.identity, "certificate-identity", "", "")
	c.Flags().StringVar(&p.chain, "certificate-chain", "", "")
	c.Flags().BoolVarP(&p.yes, "yes", "y", false, "")
	c.Flags().StringSliceVar(&p.list, "annotations", nil, "")
	return c
}

func run(t *testing.T, env map[string]string, p *probe, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := cli.NewFactory(ios)
	f.Getenv = func(k string) string { return env[k] }
	code := cli.MainWithFactory(context.Background(), args, f, p.cmd)
	return code, out.String(), errOut.String()
}

func TestEnvBinding(t *testing.T) {
	p := &probe{}
	env := map[string]string{"COSIGN_KEY": "env.pub", "COSIGN_YES": "true", "COSIGN_ANNOTATIONS": "a=1,b=2", "COSIGN_CERTIFICATE_IDENTITY": "from-env"}
	if code, _, stderr := run(t, env, p, "probe", "--certificate-identity", "from-flag"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if p.key != "env.pub" || !p.yes || strings.Join(p.list, ";") != "a=1;b=2" {
		t.Errorf("env not bound: key=%q yes=%v list=%q", p.key, p.yes, p.list)
	}
	if p.identity != "from-flag" {
		t.Errorf("command line must win over COSIGN_CERTIFICATE_IDENTITY, got %q", p.identity)
	}
}

func TestEnvBindingBadValue(t *testing.T) {
	code, _, stderr := run(t, map[string]string{"COSIGN_YES": "maybe"}, &probe{}, "probe")
	if code != 1 || !strings.Contains(stderr, "COSIGN_YES") {
		t.Fatalf("want an error naming COSIGN_YES, exit %d: %s", code, stderr)
	}
}

func TestCosignAliasesAndSingleDashFlags(t *testing.T) {
	p := &probe{}
	code, _, stderr := run(t, nil, p, "probe", "-key", "k.pub", "--cert-identity=me", "--cert-chain", "chain.pem")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if p.key != "k.pub" || p.identity != "me" || p.chain != "chain.pem" {
		t.Errorf("got key=%q identity=%q chain=%q", p.key, p.identity, p.chain)
	}
	if !strings.Contains(stderr, "WARNING: the flag -key is deprecated") {
		t.Errorf("want cosign's deprecation warning for -key, stderr: %s", stderr)
	}
	// A short flag, a lone dash and a negative number are left alone.
	p = &probe{}
	if code, _, stderr := run(t, nil, p, "probe", "-y", "--key", "-"); code != 0 || !p.yes || p.key != "-" {
		t.Fatalf("exit %d yes=%v key=%q: %s", code, p.yes, p.key, stderr)
	}
}

func TestExitCodesAndOneErrorLine(t *testing.T) {
	p := &probe{err: cli.WithExitCode(cli.ExitNoMatchingSignature, errors.New("no matching signatures:\nsecond line"))}
	code, _, stderr := run(t, nil, p, "probe")
	if code != 12 {
		t.Errorf("exit %d, want 12", code)
	}
	if strings.TrimSpace(stderr) != "Error: no matching signatures: second line" {
		t.Errorf("stderr %q", stderr)
	}
	if code, _, _ := run(t, nil, &probe{err: errors.New("x")}, "probe"); code != 1 {
		t.Errorf("generic error exit %d, want 1", code)
	}
	if code, _, stderr := run(t, nil, &probe{}, "probe", "--nope"); code != 1 || !strings.Contains(stderr, "unknown flag: --nope") {
		t.Errorf("unknown flag: exit %d %q", code, stderr)
	}
}

func TestTimeoutReachesCommand(t *testing.T) {
	p := &probe{}
	if code, _, _ := run(t, nil, p, "probe", "-t", "5s"); code != 0 {
		t.Fatal(code)
	}
	if _, ok := p.ranWith.Deadline(); !ok {
		t.Error("command context has no deadline")
	}
}

func TestOutputFileIsWrittenAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.log")
	code, stdout, _ := run(t, nil, &probe{}, "probe", "--output-file", path)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q (want it in the file)", code, stdout)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "out\n" {
		t.Fatalf("file: %q %v", b, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// TestDeprecatedFlagNoticeOnStderr: a deprecated flag's notice goes to
// stderr; stdout stays what scripts capture.
func TestDeprecatedFlagNoticeOnStderr(t *testing.T) {
	r := clitest.Run(t, clitest.Options{}, "verify-blob", "--signature", "s.sig", "--key", "k.pub", "x")
	if !strings.Contains(r.Stderr, "Flag --signature has been deprecated, please use --bundle") {
		t.Errorf("no deprecation notice on stderr:\n%s", r.Stderr)
	}
	if strings.Contains(r.Stdout, "deprecated") {
		t.Errorf("deprecation notice on stdout:\n%s", r.Stdout)
	}
}
