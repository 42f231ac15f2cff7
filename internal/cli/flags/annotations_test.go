package flags

import (
	"strings"
	"testing"
)

func TestParseAnnotations(t *testing.T) {
	got, err := ParseAnnotations([]string{"a=b", "c=d=e", "empty="})
	if err != nil || got["a"] != "b" || got["c"] != "d=e" || got["empty"] != "" {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"novalue", "=v"} {
		if _, err := ParseAnnotations([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}
