package commands_test

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/commands"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/shared"
)

type cosignFlag struct {
	short, name, typ, def string
	deprecated            bool
}

var (
	cmdWord  = regexp.MustCompile(`^[a-z0-9-]+$`)
	flagLine = regexp.MustCompile(`^  (?:-([a-zA-Z]),)?--([a-zA-Z0-9-]+) \(([^)]*)\) default="([^"]*)"(.*) :: `)
)

// cosignFlags reads ../shared/docs/cosign-v3-flags.txt: command path →
// flags.
func cosignFlags(t *testing.T) map[string][]cosignFlag {
	path := shared.Path(t, "..", "docs", "cosign-v3-flags.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("cosign flag list: %v", err)
	}
	defer f.Close()
	out := map[string][]cosignFlag{}
	cur := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "CMD cosign"); ok {
			var words []string
			for _, w := range strings.Fields(rest) {
				if !cmdWord.MatchString(w) {
					break
				}
				words = append(words, w)
			}
			cur = strings.Join(words, " ")
			if _, ok := out[cur]; !ok {
				out[cur] = nil // a command without flags is still a command
			}
			continue
		}
		if m := flagLine.FindStringSubmatch(l); m != nil {
			out[cur] = append(out[cur], cosignFlag{short: m[1], name: m[2], typ: m[3], def: m[4], deprecated: strings.Contains(m[5], "[DEPRECATED")})
		}
	}
	return out
}

func signetRoot() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	root, _ := cli.NewRootCmd(cli.NewFactory(ios), commands.All()...)
	return root
}

// cosignOnly are cosign commands signet deliberately leaves out, with why.
var cosignOnly = map[string]string{
	"generate-fig-spec": "hidden; writes a spec for the Fig terminal, which was discontinued",
}

// TestCosignFlagSurface: every command and flag cosign v3 has exists in
// signet, with the same shorthand and default (so a script written for
// cosign parses the same), and cosign's deprecated flags stay hidden.
func TestCosignFlagSurface(t *testing.T) {
	want := cosignFlags(t)
	root := signetRoot()
	checked, skipped := 0, 0
	for path, flags := range want {
		cmd := root
		if path != "" {
			words := strings.Fields(path)
			if _, ok := cosignOnly[words[0]]; ok {
				skipped++
				continue
			}
			c, rest, err := root.Find(words)
			if err != nil || len(rest) > 0 || c == root || c.Name() != words[len(words)-1] {
				t.Errorf("signet lacks cosign's command %q", path)
				continue
			}
			cmd = c
		}
		checked++
		fs := pflag.NewFlagSet("all", pflag.ContinueOnError)
		fs.AddFlagSet(cmd.Flags())
		fs.AddFlagSet(cmd.InheritedFlags())
		fs.AddFlagSet(cmd.PersistentFlags())
		for _, cf := range flags {
			got := fs.Lookup(cf.name)
			if got == nil {
				t.Errorf("signet %s: missing cosign flag --%s", path, cf.name)
				continue
			}
			if got.Shorthand != cf.short {
				t.Errorf("signet %s --%s: shorthand %q, cosign has %q", path, cf.name, got.Shorthand, cf.short)
			}
			if def := got.DefValue; def != cf.def && !(def == "[]" && cf.def == "[]") {
				t.Errorf("signet %s --%s: default %q, cosign has %q", path, cf.name, def, cf.def)
			}
			if cf.deprecated && !got.Hidden {
				t.Errorf("signet %s --%s: deprecated in cosign, should be hidden", path, cf.name)
			}
		}
	}
	// The list has ~50 commands; a parse that finds few means a changed format.
	if checked+skipped != len(want) || checked < 45 {
		t.Fatalf("%d commands checked, %d skipped, of %d listed", checked, skipped, len(want))
	}
}
