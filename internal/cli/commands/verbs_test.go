package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/commands"
	"github.com/signetdev/signet/internal/iostreams"
)

// TestVerbNames: a run builds only the verb its first word names, so each
// name must be what cobra matches; a wrong one would make the verb
// reachable only through the full tree, and the word an unknown command.
func TestVerbNames(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cli.NewFactory(ios)
	seen := map[string]bool{}
	for _, v := range commands.All() {
		c := v.New(f)
		if c.Name() != v.Name {
			t.Errorf("verb %q builds command %q", v.Name, c.Name())
		}
		if len(c.Aliases) > 0 {
			t.Errorf("verb %q has aliases %v: selecting by name would miss them", v.Name, c.Aliases)
		}
		if seen[v.Name] {
			t.Errorf("verb %q listed twice", v.Name)
		}
		seen[v.Name] = true
	}
}

// TestOnlyTheNamedVerbIsBuilt: every verb's help runs with the verb alone
// in the tree, and the root's help still lists every verb.
func TestOnlyTheNamedVerbIsBuilt(t *testing.T) {
	verbs := commands.All()
	built := map[string]int{}
	counted := make([]cli.Verb, len(verbs))
	for i, v := range verbs {
		counted[i] = cli.Verb{Name: v.Name, New: func(f *cli.Factory) *cobra.Command {
			built[v.Name]++
			return v.New(f)
		}}
	}
	run := func(args ...string) string {
		ios, _, out, errOut := iostreams.Test()
		if code := cli.Run(context.Background(), args, cli.NewFactory(ios), counted...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out.String()
	}
	for _, args := range [][]string{{"version"}, {"-d", "--timeout", "1m", "version"}, {"--output-file=/dev/null", "-t=5s", "version", "--json"}} {
		clear(built)
		run(args...)
		if len(built) != 1 || built["version"] != 1 {
			t.Errorf("%v built %v, want only version", args, built)
		}
	}
	clear(built)
	help := run("--help")
	for _, v := range verbs {
		if built[v.Name] != 1 {
			t.Errorf("--help did not build %q", v.Name)
		}
	}
	if !strings.Contains(help, "verify-blob-attestation") {
		t.Errorf("root help lacks the verbs:\n%s", help)
	}
	// A flag form the selector does not know builds everything, and still runs.
	clear(built)
	run("-d=true", "version")
	if len(built) != len(verbs) {
		t.Errorf("-d=true version built %d verbs, want all %d", len(built), len(verbs))
	}
}
