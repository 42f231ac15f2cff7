//go:build nopolicy

package policy

import (
	"context"
	"errors"
	"testing"
)

func TestNotBuilt(t *testing.T) {
	for _, lang := range []Lang{CUE, Rego} {
		_, err := Compile(context.Background(), CosignCLI, Source{Name: "p", Lang: lang, Data: []byte("x")})
		if !errors.Is(err, ErrNotBuilt) {
			t.Errorf("%s: %v, want ErrNotBuilt", lang, err)
		}
	}
}
