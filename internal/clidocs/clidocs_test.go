package clidocs

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// committed is docs/cli/ in this repository.
const committed = "../../docs/cli"

// TestMarkdownUpToDate fails when a command, flag or help text changed and
// docs/cli/ was not regenerated.
func TestMarkdownUpToDate(t *testing.T) {
	dir := t.TempDir()
	if err := Markdown(dir); err != nil {
		t.Fatal(err)
	}
	want := pages(t, dir)
	got := pages(t, committed)
	if len(want) < 10 {
		t.Fatalf("only %d pages generated", len(want))
	}
	var stale []string
	for name, data := range want {
		if old, ok := got[name]; !ok || !bytes.Equal(old, data) {
			stale = append(stale, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (no such command any more)")
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		t.Fatalf("docs/cli is stale (%s): run `make docs` and commit docs/cli/", strings.Join(stale, ", "))
	}
}

func pages(t *testing.T, dir string, ext ...string) map[string][]byte {
	t.Helper()
	pattern := "*.md"
	if len(ext) == 1 {
		pattern = "*" + ext[0]
	}
	paths, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = data
	}
	return out
}

// TestManDeterministic: two generations with the same date give the same
// bytes, carry that date and no other, and cover signet's verbs.
func TestManDeterministic(t *testing.T) {
	date := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	a, b := t.TempDir(), t.TempDir()
	if err := Man(a, date); err != nil {
		t.Fatal(err)
	}
	if err := Man(b, date); err != nil {
		t.Fatal(err)
	}
	pa, pb := pages(t, a, ".1"), pages(t, b, ".1")
	if len(pa) < 10 || len(pa) != len(pb) {
		t.Fatalf("%d and %d man pages", len(pa), len(pb))
	}
	for name, data := range pa {
		if !bytes.Equal(data, pb[name]) {
			t.Errorf("%s differs between two generations", name)
		}
	}
	page := string(pa["signet-sign-blob.1"])
	if !strings.Contains(page, `.TH "SIGNET" "1" "Nov 2026" "signet" "signet manual"`) || !strings.Contains(page, "--output-format") {
		t.Errorf("signet-sign-blob.1 lacks its header or --output-format:\n%.600s", page)
	}
}

func TestSourceDate(t *testing.T) {
	if d, err := SourceDate("1764489600"); err != nil || !d.Equal(time.Unix(1764489600, 0)) {
		t.Errorf("SourceDate: %v %v", d, err)
	}
	for _, bad := range []string{"", "yesterday"} {
		if _, err := SourceDate(bad); err == nil {
			t.Errorf("SourceDate(%q) accepted", bad)
		}
	}
}
