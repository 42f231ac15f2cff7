// Package jsonlex is what signet's strict one-pass JSON readers share
// (the admission review reader in pkg/admission, the statement reader in
// pkg/policy/engine): white space, the number grammar, the string
// scanner and a skipper for a whole value, each accepting exactly what
// encoding/json accepts. What a reader does with a string it scanned
// (keep its text, decode its escapes) stays the reader's.
package jsonlex

// SkipWS returns the index of the first byte at or after i that is not
// JSON white space.
func SkipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Number returns the end of the JSON number that starts at b[i], or
// ok=false when none does: an optional minus, 0 or digits without a
// leading zero, an optional fraction and exponent, each with digits.
func Number(b []byte, i int) (end int, ok bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		d := i + 1
		if i = digits(b, d); i == d {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		if i = digits(b, d); i == d {
			return i, false
		}
	}
	return i, true
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}
