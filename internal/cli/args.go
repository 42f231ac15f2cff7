package cli

import (
	"strings"

	"github.com/spf13/pflag"
)

// legacyArgs rewrites the single-dash long flags cosign's main.go accepts
// (`-key` for `--key`, `--o` for `-o`) and reports each rewrite so the
// caller can warn, as cosign does.
func legacyArgs(args []string) (out []string, rewritten []string) {
	out = make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(a, "=")
		switch {
		case name == "--o":
			name = "-o"
		case strings.HasPrefix(name, "-") && !strings.HasPrefix(name, "--") && len(name) > 2 && isLetter(name[1]):
			// -key, -certificate-identity … : a single-dash word that is
			// not a bundle of short flags. cosign's only short flags are
			// -a -d -o -r -t -y, so any longer word is a long flag.
			name = "-" + name
		default:
			out = append(out, a)
			continue
		}
		rewritten = append(rewritten, a)
		if hasValue {
			out = append(out, name+"="+value)
		} else {
			out = append(out, name)
		}
	}
	return out, rewritten
}

// flagAliases are cosign's shorter spellings (cmd/cosign/cli/commands.go).
var flagAliases = map[string]string{
	"cert":             "certificate",
	"cert-chain":       "certificate-chain",
	"cert-email":       "certificate-email",
	"cert-identity":    "certificate-identity",
	"cert-oidc-issuer": "certificate-oidc-issuer",
	"output-cert":      "output-certificate",
}

func normalizeFlagName(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if alias, ok := flagAliases[name]; ok {
		name = alias
	}
	return pflag.NormalizedName(name)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// selectVerbs returns the verbs a run of args needs: the named verb its
// first word selects, with the unnamed ones, or all of them when the word
// is not a verb's name (help, completion, a typo cobra suggests for, no
// verb at all) or the root flags before it are not in a plain form.
func selectVerbs(args []string, verbs []Verb) []Verb {
	word := verbWord(args)
	if word == "" {
		return verbs
	}
	var out []Verb
	found := false
	for _, v := range verbs {
		switch v.Name {
		case "":
			out = append(out, v)
		case word:
			out = append(out, v)
			found = true
		}
	}
	if !found {
		return verbs
	}
	return out
}

// verbWord is the first word of args after the root's own flags
// (--output-file, --timeout/-t, --verbose/-d), or "" when a flag before
// it is in any other form.
func verbWord(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case !strings.HasPrefix(a, "-") || a == "-":
			return a
		case a == "--output-file" || a == "--timeout" || a == "-t":
			i++ // the flag's value
		case a == "--verbose" || a == "-d",
			strings.HasPrefix(a, "--output-file="), strings.HasPrefix(a, "--timeout="),
			strings.HasPrefix(a, "-t="), strings.HasPrefix(a, "--verbose="):
		default:
			return ""
		}
	}
	return ""
}
