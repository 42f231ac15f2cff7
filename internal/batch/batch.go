// Package batch reports the failures of a run over many items (files,
// images) in one line a CI log can hold: each distinct cause once, with a
// few of the names it hit. Signing 200 files with Rekor down used to print
// the same cause 200 times in a 30 KB line.
package batch

import (
	"fmt"
	"sort"
	"strings"
)

// Failure is one item that failed and why.
type Failure struct {
	// Name is how the user knows the item: the file path or image reference.
	Name string
	// Err should not repeat Name; where it does (an *fs.PathError naming
	// the file), the name is replaced by a placeholder so that the causes
	// of different items compare equal.
	Err error
}

// MaxNames is how many names are listed per cause; MaxCauses how many
// distinct causes are spelled out.
const (
	MaxNames  = 3
	MaxCauses = 3
)

// Error is the failures of one run. Unwrap returns every item's error, so
// errors.Is/As (and the exit code mapping) still see them.
type Error struct {
	Noun     string // plural: "files", "images"
	Total    int
	Failures []Failure
}

// New returns nil when nothing failed, else an *Error.
func New(noun string, total int, failures []Failure) error {
	if len(failures) == 0 {
		return nil
	}
	return &Error{Noun: noun, Total: total, Failures: failures}
}

func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		errs[i] = f.Err
	}
	return errs
}

type group struct {
	cause string
	names []string
}

// Groups returns the distinct causes, most frequent first (ties by first
// name), each with its names sorted.
func (e *Error) Groups() []group {
	byCause := map[string]*group{}
	var groups []*group
	for _, f := range e.Failures {
		c := Cause(f, strings.TrimSuffix(e.Noun, "s"))
		g := byCause[c]
		if g == nil {
			g = &group{cause: c}
			byCause[c] = g
			groups = append(groups, g)
		}
		g.names = append(g.names, f.Name)
	}
	out := make([]group, len(groups))
	for i, g := range groups {
		sort.Strings(g.names)
		out[i] = *g
	}
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i].names) != len(out[j].names) {
			return len(out[i].names) > len(out[j].names)
		}
		return out[i].names[0] < out[j].names[0]
	})
	return out
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d %s failed: ", len(e.Failures), e.Total, e.Noun)
	groups := e.Groups()
	for i, g := range groups {
		if i == MaxCauses {
			rest := 0
			for _, g := range groups[i:] {
				rest += len(g.names)
			}
			fmt.Fprintf(&b, "; and %d more for %d other causes", rest, len(groups)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s)", g.cause, Names(g.names, MaxNames))
	}
	return b.String()
}

// Names lists up to max names and counts the rest: "a, b, c and 197 more".
func Names(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}

// Cause is a failure's message on one line, with the item's own name
// replaced by <placeholder> so that "open a.txt: permission denied" and
// "open b.txt: permission denied" read as one cause.
func Cause(f Failure, placeholder string) string {
	msg := strings.Join(strings.Fields(f.Err.Error()), " ")
	if f.Name != "" {
		msg = replaceWord(msg, f.Name, "<"+placeholder+">")
	}
	return msg
}

// replaceWord replaces old where it stands alone (not inside a longer
// name): "a" in "open a: denied", not in "rekor: 503".
func replaceWord(s, old, repl string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(old)
		if (i == 0 || !nameByte(s[i-1])) && (end == len(s) || !nameByte(s[end])) {
			b.WriteString(s[:i])
			b.WriteString(repl)
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-/@+~", c) >= 0
}
