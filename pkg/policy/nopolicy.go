//go:build nopolicy

package policy

import "context"

// Without the engines every Compile fails before anything is evaluated,
// so a caller never holds a Set whose checks would silently pass.

type cueSet struct{ srcs []Source }

type regoSet struct{ srcs []Source }

func compileCUE(Convention, []Source) (*cueSet, error) { return nil, ErrNotBuilt }

func compileRego(context.Context, Convention, []Source) (*regoSet, error) { return nil, ErrNotBuilt }

func (*cueSet) check(*Result, []byte) error { return ErrNotBuilt }

func (*regoSet) check(context.Context, *Result, []byte) error { return ErrNotBuilt }
