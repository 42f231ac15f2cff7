package regcmd

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// parsePlatform parses cosign's --platform: os/arch[/variant][:osversion].
func parsePlatform(s string) (v1.Platform, error) {
	var p v1.Platform
	base, osv, _ := strings.Cut(s, ":")
	parts := strings.Split(base, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return p, fmt.Errorf("--platform %q: want os/arch[/variant], e.g. linux/amd64", s)
	}
	p.OS, p.Architecture, p.OSVersion = parts[0], parts[1], osv
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}
