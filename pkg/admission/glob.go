package admission

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
)

// Globs follow policy-controller: `*` is any run of characters but `/`,
// `**` any run at all, the whole reference must match, and it is matched
// on the fully qualified name (index.docker.io/library/busybox:latest),
// then on the name as written. A bare `*` and `*/*` mean Docker Hub's
// official and user images, as there.
var validGlob = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9-_:/*.@]+$`) })

type imageGlob struct {
	text string
	re   *regexp.Regexp
}

func compileGlob(g string) (imageGlob, error) {
	pattern := g
	switch g {
	case "*/*":
		pattern = "index.docker.io/*/*"
	case "*":
		pattern = "index.docker.io/library/*"
	}
	if !validGlob().MatchString(pattern) {
		return imageGlob{}, fmt.Errorf("invalid glob %q: only letters, digits and -_:/*.@ are allowed", g)
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case pattern[i] == '*':
			b.WriteString("[^/]*")
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return imageGlob{}, fmt.Errorf("invalid glob %q: %w", g, err)
	}
	return imageGlob{text: g, re: re}, nil
}

// match reports whether the image matches.
func (g imageGlob) match(image string) bool {
	ref, err := name.ParseReference(image, name.WeakValidation)
	if err != nil {
		return g.re.MatchString(image)
	}
	return g.matchParsed(ref.Name(), image)
}

// matchParsed matches the fully qualified name, then the name as written.
func (g imageGlob) matchParsed(qualified, written string) bool {
	return g.re.MatchString(qualified) || (qualified != written && g.re.MatchString(written))
}
