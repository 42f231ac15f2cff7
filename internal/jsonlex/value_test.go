package jsonlex

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strings"
	"testing"
)

// skipCases: each text and where Skip (depth 0, maxDepth 3) ends the
// value at its start, -1 for no value.
var skipCases = []struct {
	text string
	end  int
}{
	{`0`, 1}, {`-1.5e+3,`, 7}, {` 7 `, 2}, {`01`, 1}, {`-`, -1}, {`1.`, -1}, {`1e`, -1}, {`+1`, -1}, {`.5`, -1},
	{`true`, 4}, {`false]`, 5}, {`null`, 4}, {`tru`, -1}, {`nul`, -1}, {`fals`, -1}, {`True`, -1}, {`nullx`, 4},
	{`""`, 2}, {`"abc"x`, 5}, {`"a`, -1}, {`"`, -1}, {`"\`, -1}, {`"\"`, -1}, {`"\""`, 4},
	{`"\" \\ \/ \b \f \n \r \t"`, 25}, {`"\u00e9\uD800"`, 14}, {`"\u00E9"`, 8}, {`"\u00g9"`, -1}, {`"\u00e"`, -1}, {`"\u00`, -1},
	{`"\x"`, -1}, {`"\'"`, -1}, {`"\a"`, -1}, {`"\U0041"`, -1},
	{"\"a\x00\"", -1}, {"\"a\x1f\"", -1}, {"\"a\n\"", -1}, {"\"a\t\"", -1}, {"\"\x7f\"", 3}, {"\"caf\xc3\xa9\"", 7}, {"\"\xff\xfe\"", 4},
	{`{}`, 2}, {`[]`, 2}, {`{ }`, 3}, {`[ ]`, 3}, {`[}`, -1}, {`{]`, -1}, {`{`, -1}, {`[`, -1}, {`]`, -1}, {`}`, -1},
	{`{"a":1}`, 7}, {`{"a" : [1, "x", true, null, {}] , "b":{"c":[]}}`, 47}, {`{"a":1,}`, -1}, {`[1,]`, -1}, {`[,1]`, -1},
	{`{"a"}`, -1}, {`{"a":}`, -1}, {`{a:1}`, -1}, {`{1:1}`, -1}, {`{"a":1 "b":2}`, -1}, {`[1 2]`, -1}, {`{"a":1]`, -1}, {`[1}`, -1},
	{`{"a":1`, -1}, {`[1,`, -1}, {`{"a":`, -1}, {`{"a"`, -1}, {`{"a":1,"b"`, -1}, {`[[],[[]]]`, 9}, {`"\u0041"`, 8},
	// Depth: three levels are allowed, a fourth is not, empty or not.
	{`[[[1]]]`, 7}, {`[[[]]]`, 6}, {`[[[[]]]]`, -1}, {`{"a":{"b":[{}]}}`, -1}, {`{"a":{"b":[0]}}`, 15}, {`[[[0]],[[{}]]]`, -1}, {`[[0],[{}]]`, 10},
	{``, -1}, {`  `, -1}, {`x`, -1}, {`,`, -1},
}

func TestSkip(t *testing.T) {
	for _, tc := range skipCases {
		end, ok := Skip([]byte(tc.text), 0, 0, 3)
		if !ok {
			end = -1
		}
		if end != tc.end {
			t.Errorf("%q: Skip = %d, %v; want %d", tc.text, end, ok, tc.end)
		}
		// Below the limit, encoding/json agrees.
		jsonEnd, _ := decodeOne([]byte(tc.text))
		if tc.end >= 0 && jsonEnd != tc.end || tc.end < 0 && jsonEnd >= 0 && nesting([]byte(tc.text)[:jsonEnd]) <= 3 {
			t.Errorf("%q: Skip ends at %d, encoding/json at %d", tc.text, tc.end, jsonEnd)
		}
	}
}

// TestSkipDepth: the containers already open count against the limit.
func TestSkipDepth(t *testing.T) {
	b := []byte(`{"a":[1]}`)
	for depth, want := range []bool{true, true, true, false, false} {
		if _, ok := Skip(b, 0, depth, 4); ok != want {
			t.Errorf("depth %d of 4: Skip ok %v, want %v", depth, ok, want)
		}
	}
	// Deeper than the bits kept on the stack, as deep as encoding/json allows.
	deep := []byte(strings.Repeat(`[{"k":`, 5000) + `0` + strings.Repeat(`}]`, 5000))
	if end, ok := Skip(deep, 0, 0, 10000); !ok || end != len(deep) {
		t.Errorf("10000 levels: Skip = %d, %v", end, ok)
	}
	if _, ok := Skip(deep, 0, 1, 10000); ok {
		t.Error("10001 levels: Skip accepted")
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		text  string
		end   int
		plain bool
	}{
		{`"abc"`, 5, true}, {`"a b~!"x`, 7, true}, {`""`, 2, true}, {`"a\/b"`, 6, false}, {`"\u0041"`, 8, false},
		{"\"\x7f\"", 3, false}, {"\"é\"", 4, false}, {`"a`, -1, false}, {`abc`, -1, false}, {"\"\x01\"", -1, false},
		// Past a word: the stop found in the second or third eight bytes.
		{`"abcdefghijklmnopqrstuvwxyz"`, 28, true}, {`"abcdefghijklm\"nopqrstuvwxyz"`, 30, false},
		{"\"abcdefghi\x7fjklmnopq\"", 20, false}, {"\"abcdefghijklmnop\x1f\"", -1, false}, {`"abcdefghijklmnopq`, -1, false},
		{`"abcdefgh"`, 10, true}, {`"abcdefg"`, 9, true}, {"\"abcdefghijklmnopqrstuvw\xc3\xa9\"", 27, false},
	} {
		end, plain, ok := String([]byte(tc.text), 0)
		if !ok {
			end, plain = -1, false
		}
		if end != tc.end || plain != tc.plain {
			t.Errorf("%q: String = %d, plain %v; want %d, %v", tc.text, end, plain, tc.end, tc.plain)
		}
	}
	if end, _, ok := String([]byte(`x:"ab"`), 2); !ok || end != 6 {
		t.Errorf("String from an offset = %d, %v", end, ok)
	}
}

// TestStringStop holds the table to the rule it is written from.
func TestStringStop(t *testing.T) {
	for c := range 256 {
		if want := c == '"' || c == '\\' || c < 0x20 || c >= 0x7f; stringStop[c] != want {
			t.Errorf("stringStop[%#x] = %v, want %v", c, stringStop[c], want)
		}
	}
}

// TestStops: for every byte at every place in a word, among plain bytes
// or behind another stop, stops flags the first byte stringStop marks
// and none below it.
func TestStops(t *testing.T) {
	for _, fill := range []byte{'a', '~', ' ', 0x1f, 0x7f, 0x80, 0xff, '"', '\\', 0x00, 0x21, 0x5b} {
		for at := range 8 {
			for c := range 256 {
				var w [8]byte
				for k := range w {
					w[k] = 'x'
				}
				w[at] = byte(c)
				for k := at + 1; k < 8; k++ {
					w[k] = fill
				}
				want := 8
				for k, b := range w {
					if stringStop[b] {
						want = k
						break
					}
				}
				m := stops(binary.LittleEndian.Uint64(w[:]))
				got := bits.TrailingZeros64(m) >> 3
				if got != want {
					t.Fatalf("%q: stops flags byte %d first, want %d", w, got, want)
				}
			}
		}
	}
}

// FuzzSkip: Skip reads a value exactly where encoding/json does, and
// refuses what it refuses or what nests deeper than the limit.
func FuzzSkip(f *testing.F) {
	for _, tc := range skipCases {
		f.Add([]byte(tc.text), uint8(3))
	}
	f.Add([]byte(`{"metadata":{"managedFields":[{"fieldsV1":{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{}}}}}}]}}`), uint8(10))
	f.Fuzz(func(t *testing.T, b []byte, limit uint8) {
		maxDepth := int(limit % 16)
		end, ok := Skip(b, 0, 0, maxDepth)
		jsonEnd, _ := decodeOne(b)
		switch {
		case jsonEnd < 0:
			if ok {
				t.Fatalf("%q: Skip read %d bytes, encoding/json refuses it", b, end)
			}
		case nesting(b[:jsonEnd]) > maxDepth:
			if ok {
				t.Fatalf("%q: Skip read past depth %d", b, maxDepth)
			}
		case !ok || end != jsonEnd:
			t.Fatalf("%q: Skip = %d, %v; encoding/json ends at %d", b, end, ok, jsonEnd)
		}
		// A string's plain: its text is its value and all of it is
		// printable ASCII.
		i := SkipWS(b, 0)
		if end, plain, ok := String(b, i); ok {
			var s string
			if err := json.Unmarshal(b[i:end], &s); err != nil {
				t.Fatalf("%q: String read what encoding/json refuses: %v", b, err)
			}
			if want := s == string(b[i+1:end-1]) && isPrintableASCII(b[i+1:end-1]); plain != want {
				t.Fatalf("%q: String plain %v, want %v", b, plain, want)
			}
		}
	})
}

// decodeOne is where encoding/json ends the first value in b, -1 if it
// finds none.
func decodeOne(b []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return -1, err
	}
	return int(dec.InputOffset()), nil
}

// nesting is how deep the objects and arrays of a valid value nest.
func nesting(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func isPrintableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
