package jsonlex

import (
	"encoding/json"
	"testing"
)

// TestNumber holds the grammar to encoding/json: a text is a whole number
// for Number exactly when json.Valid accepts it as the whole document.
func TestNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-12", "1.5", "1e9", "1E+9", "2.5e-3", "",
		"-", "01", "1.", ".5", "1e", "1e+", "+1", "--1", "1.2.3", "0x1", "1ee2", "00"} {
		end, ok := Number([]byte(s), 0)
		whole := ok && end == len(s)
		if whole != json.Valid([]byte(s)) {
			t.Errorf("%q: Number whole %v (end %d, ok %v), json.Valid %v", s, whole, end, ok, json.Valid([]byte(s)))
		}
	}
}

// FuzzNumber: on texts made of number characters, Number reads a whole
// number exactly when json.Valid accepts the text.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.5e+3", "01", "1.", "-"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !isNumberish(b) {
			return
		}
		end, ok := Number(b, 0)
		if whole := ok && end == len(b); whole != json.Valid(b) {
			t.Fatalf("%q: Number whole %v, json.Valid %v", b, whole, json.Valid(b))
		}
	})
}

func isNumberish(b []byte) bool {
	for _, c := range b {
		if !(c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func TestSkipWS(t *testing.T) {
	if got := SkipWS([]byte(" \t\r\n x"), 0); got != 5 {
		t.Errorf("SkipWS = %d, want 5", got)
	}
	if got := SkipWS([]byte("  "), 1); got != 2 {
		t.Errorf("SkipWS at the end = %d, want 2", got)
	}
}
