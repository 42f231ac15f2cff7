// Package clidocs writes signet's command reference from the cobra tree:
// Markdown for docs/cli/ (committed, checked for staleness by this
// package's test) and man pages for packaging. It is used by
// hack/gendocs (`make docs`, `make man`), never by the signet binary, so
// the generators cost the binary neither size nor start-up time.
package clidocs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/commands"
	"github.com/signetdev/signet/internal/iostreams"
)

// Root builds the command tree as the binary does, in an environment that
// is the same on every machine (no variables, a fixed home), so flag
// defaults and help never depend on who generates the docs.
func Root() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	f := cli.NewFactory(ios)
	f.Getenv = func(string) string { return "" }
	f.LookupEnv = func(string) (string, bool) { return "", false }
	f.HomeDir = func() (string, error) { return "$HOME", nil }
	root, _ := cli.NewRootCmd(f, commands.All()...)
	root.DisableAutoGenTag = true // its footer carries the generation date
	showDeprecated(root)
	return root
}

// showDeprecated documents the commands hidden from help because cosign
// deprecated them: scripts still run them, so the reference keeps them,
// marked.
func showDeprecated(c *cobra.Command) {
	for _, sub := range c.Commands() {
		if msg, ok := sub.Annotations[cli.DeprecatedCommand]; ok && sub.Hidden {
			sub.Hidden = false
			sub.Short = "(deprecated) " + sub.Short
			sub.Long = strings.TrimSpace(sub.Long + "\n\nDeprecated: " + msg)
		}
		showDeprecated(sub)
	}
}

// Markdown writes one page per command into dir, replacing every page
// there, so a removed command leaves no stale page behind.
func Markdown(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return err
	}
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(Root(), dir); err != nil {
		return fmt.Errorf("writing the Markdown reference to %s: %w", dir, err)
	}
	return nil
}

// Man writes section 1 man pages into dir. date is the page date: pass
// the commit's time (SOURCE_DATE_EPOCH), so two builds of one commit give
// the same bytes.
func Man(dir string, date time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	date = date.UTC()
	header := &doc.GenManHeader{Title: "SIGNET", Section: "1", Source: "signet", Manual: "signet manual", Date: &date}
	if err := doc.GenManTree(Root(), header, dir); err != nil {
		return fmt.Errorf("writing man pages to %s: %w", dir, err)
	}
	return nil
}

// SourceDate is SOURCE_DATE_EPOCH (seconds since 1970), as reproducible
// builds define it.
func SourceDate(epoch string) (time.Time, error) {
	var sec int64
	if _, err := fmt.Sscanf(strings.TrimSpace(epoch), "%d", &sec); err != nil || epoch == "" {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", epoch)
	}
	return time.Unix(sec, 0).UTC(), nil
}
