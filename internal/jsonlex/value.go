package jsonlex

import (
	"encoding/binary"
	"math/bits"
)

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// stops sets the high bit of the lowest byte of x (little-endian) that
// stringStop marks, and of none below it; bytes above it may be set
// wrongly (a borrow carries up), which the caller never looks at. Review
// strings average a dozen bytes, so testing eight at once was ~15% of a
// review's decode over the byte loop alone.
func stops(x uint64) uint64 {
	quote := x ^ (ones * '"')
	slash := x ^ (ones * '\\')
	zero := (quote - ones) &^ quote
	zero |= (slash - ones) &^ slash
	zero |= (x - ones*0x20) &^ x
	zero |= (x&^highs + ones) | x
	return zero & highs
}

// String returns the end (past the closing quote) of the JSON string that
// starts at b[i], and whether it is plain: no escape and every byte
// printable ASCII (< 0x7f), so its text is its value for any reader. It
// accepts exactly what encoding/json accepts: no control characters, the
// escapes \" \\ \/ \b \f \n \r \t and \u with four hex digits, and any
// byte >= 0x7f (encoding/json replaces invalid UTF-8, not refuses it).
func String(b []byte, i int) (end int, plain, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false, false
	}
	plain = true
	i++
	for {
		// The common run: eight bytes at a time, then (near the end
		// of b) one table test per byte.
		for i+8 <= len(b) {
			if m := stops(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && !stringStop[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, false, false
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				return i, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, false, false
				}
				i += 6
			default:
				return i, false, false
			}
		case c < 0x20:
			return i, false, false
		default: // >= 0x7f: valid, but encoding/json may replace it
			plain = false
			i++
		}
	}
}

// stringStop marks the bytes that end a plain run inside a string: the
// quote, the backslash, control characters and bytes >= 0x7f. Written
// out, not computed, so the package does no work at init.
var stringStop = [256]bool{
	0x00: true, 0x01: true, 0x02: true, 0x03: true, 0x04: true, 0x05: true, 0x06: true, 0x07: true,
	0x08: true, 0x09: true, 0x0a: true, 0x0b: true, 0x0c: true, 0x0d: true, 0x0e: true, 0x0f: true,
	0x10: true, 0x11: true, 0x12: true, 0x13: true, 0x14: true, 0x15: true, 0x16: true, 0x17: true,
	0x18: true, 0x19: true, 0x1a: true, 0x1b: true, 0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true,
	'"': true, '\\': true,
	0x7f: true,
	0x80: true, 0x81: true, 0x82: true, 0x83: true, 0x84: true, 0x85: true, 0x86: true, 0x87: true,
	0x88: true, 0x89: true, 0x8a: true, 0x8b: true, 0x8c: true, 0x8d: true, 0x8e: true, 0x8f: true,
	0x90: true, 0x91: true, 0x92: true, 0x93: true, 0x94: true, 0x95: true, 0x96: true, 0x97: true,
	0x98: true, 0x99: true, 0x9a: true, 0x9b: true, 0x9c: true, 0x9d: true, 0x9e: true, 0x9f: true,
	0xa0: true, 0xa1: true, 0xa2: true, 0xa3: true, 0xa4: true, 0xa5: true, 0xa6: true, 0xa7: true,
	0xa8: true, 0xa9: true, 0xaa: true, 0xab: true, 0xac: true, 0xad: true, 0xae: true, 0xaf: true,
	0xb0: true, 0xb1: true, 0xb2: true, 0xb3: true, 0xb4: true, 0xb5: true, 0xb6: true, 0xb7: true,
	0xb8: true, 0xb9: true, 0xba: true, 0xbb: true, 0xbc: true, 0xbd: true, 0xbe: true, 0xbf: true,
	0xc0: true, 0xc1: true, 0xc2: true, 0xc3: true, 0xc4: true, 0xc5: true, 0xc6: true, 0xc7: true,
	0xc8: true, 0xc9: true, 0xca: true, 0xcb: true, 0xcc: true, 0xcd: true, 0xce: true, 0xcf: true,
	0xd0: true, 0xd1: true, 0xd2: true, 0xd3: true, 0xd4: true, 0xd5: true, 0xd6: true, 0xd7: true,
	0xd8: true, 0xd9: true, 0xda: true, 0xdb: true, 0xdc: true, 0xdd: true, 0xde: true, 0xdf: true,
	0xe0: true, 0xe1: true, 0xe2: true, 0xe3: true, 0xe4: true, 0xe5: true, 0xe6: true, 0xe7: true,
	0xe8: true, 0xe9: true, 0xea: true, 0xeb: true, 0xec: true, 0xed: true, 0xee: true, 0xef: true,
	0xf0: true, 0xf1: true, 0xf2: true, 0xf3: true, 0xf4: true, 0xf5: true, 0xf6: true, 0xf7: true,
	0xf8: true, 0xf9: true, 0xfa: true, 0xfb: true, 0xfc: true, 0xfd: true, 0xfe: true, 0xff: true,
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Skip returns the end of the one JSON value at b[i] (after any white
// space before it; none after it is consumed), or ok=false when there is
// none or it is not valid JSON. depth is the number of objects and arrays
// already open around it; a value that opens more than maxDepth in all is
// refused. It loops instead of recursing, keeping one bit per open
// container (object or array) to know what must close it, so deep input
// costs no stack and nothing escapes for nesting up to 512 below depth.
func Skip(b []byte, i, depth, maxDepth int) (end int, ok bool) {
	var local [8]uint64
	objects := local[:] // bit n: the n-th open container is an object
	open := 0
	for {
		// At a value.
		i = SkipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth+open >= maxDepth {
				return i, false
			}
			i = SkipWS(b, i+1)
			if i < len(b) && b[i] == c+2 { // '}' and ']' are two past their openers
				i++
				break
			}
			if open>>6 == len(objects) {
				objects = append(objects, 0)
			}
			if c == '{' {
				objects[open>>6] |= 1 << (open & 63)
				if i, ok = key(b, i); !ok {
					return i, false
				}
			} else {
				objects[open>>6] &^= 1 << (open & 63)
			}
			open++
			continue
		case '"':
			if i, _, ok = String(b, i); !ok {
				return i, false
			}
		case 't':
			if i, ok = word(b, i, "true"); !ok {
				return i, false
			}
		case 'f':
			if i, ok = word(b, i, "false"); !ok {
				return i, false
			}
		case 'n':
			if i, ok = word(b, i, "null"); !ok {
				return i, false
			}
		default:
			if i, ok = Number(b, i); !ok {
				return i, false
			}
		}
		// After a value: close the containers that end here, then step
		// over the comma (and the key) before the next value.
		for {
			if open == 0 {
				return i, true
			}
			i = SkipWS(b, i)
			if i >= len(b) {
				return i, false
			}
			inObject := objects[(open-1)>>6]&(1<<((open-1)&63)) != 0
			if c := b[i]; c == ',' {
				i++
				if inObject {
					if i, ok = key(b, SkipWS(b, i)); !ok {
						return i, false
					}
				}
				break
			} else if inObject && c == '}' || !inObject && c == ']' {
				i++
				open--
				continue
			}
			return i, false
		}
	}
}

// key steps over an object member's name and the colon after it.
func key(b []byte, i int) (int, bool) {
	i, _, ok := String(b, i)
	if !ok {
		return i, false
	}
	if i = SkipWS(b, i); i >= len(b) || b[i] != ':' {
		return i, false
	}
	return i + 1, true
}

func word(b []byte, i int, w string) (int, bool) {
	if len(b)-i < len(w) || string(b[i:i+len(w)]) != w {
		return i, false
	}
	return i + len(w), true
}
