// Command sigstore-kms is the KMS plugin signet ships beside its binary:
// one program, installed under the names sigstore-kms-awskms,
// -gcpkms, -azurekms, -hashivault and -openbao (`make build` links them),
// that serves sigstore's cliplugin protocol with sigstore's own provider
// for the scheme its name ends in. It keeps the cloud SDKs (≈12 MB and
// their start-up cost) out of the signet binary; cosign finds the same
// plugins on PATH. See docs/KEYS.md.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature/kms"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/azure"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/encoding"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/handler"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
)

func main() { os.Exit(run()) }

func run() int {
	scheme := strings.TrimPrefix(filepath.Base(os.Args[0]), cliplugin.PluginBinaryPrefix)
	fail := func(err error) int {
		_ = handler.WriteErrorResponse(os.Stdout, err)
		return 1
	}
	args, err := handler.GetPluginArgs(os.Args)
	if err != nil {
		return fail(fmt.Errorf("%s (run as %s<scheme> by signet or cosign): %w", os.Args[0], cliplugin.PluginBinaryPrefix, err))
	}
	// Only the compiled-in providers: kms.Get would otherwise look for a
	// plugin of this very name on PATH and run itself.
	known := false
	for _, p := range kms.SupportedProviders() {
		known = known || p == scheme+"://"
	}
	if !known {
		return fail(fmt.Errorf("%s: this plugin serves awskms, gcpkms, azurekms, hashivault and openbao, not %q", os.Args[0], scheme))
	}
	ctx := context.Background()
	if d := args.InitOptions.CtxDeadline; d != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, *d)
		defer cancel()
	}
	sv, err := kms.Get(ctx, scheme+"://"+args.InitOptions.KeyResourceID, args.InitOptions.HashFunc,
		encoding.UnpackRPCOptions(args.InitOptions.RPCOptions)...)
	if err != nil {
		return fail(err)
	}
	if _, err := handler.Dispatch(os.Stdout, os.Stdin, args, sv); err != nil {
		return 1
	}
	return 0
}
