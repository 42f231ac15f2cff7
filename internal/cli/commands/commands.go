// Package commands lists signet's verbs. It is the one place that imports
// every verb package, so the root command can stay ignorant of them.
package commands

import (
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/admission"
	"github.com/signetdev/signet/internal/cli/attach"
	"github.com/signetdev/signet/internal/cli/attest"
	"github.com/signetdev/signet/internal/cli/attestblob"
	"github.com/signetdev/signet/internal/cli/bundle"
	"github.com/signetdev/signet/internal/cli/clean"
	"github.com/signetdev/signet/internal/cli/copycmd"
	"github.com/signetdev/signet/internal/cli/debug"
	"github.com/signetdev/signet/internal/cli/dockerfile"
	"github.com/signetdev/signet/internal/cli/download"
	"github.com/signetdev/signet/internal/cli/envcmd"
	"github.com/signetdev/signet/internal/cli/generate"
	"github.com/signetdev/signet/internal/cli/generatekeypair"
	"github.com/signetdev/signet/internal/cli/importkeypair"
	"github.com/signetdev/signet/internal/cli/initialize"
	"github.com/signetdev/signet/internal/cli/load"
	"github.com/signetdev/signet/internal/cli/login"
	"github.com/signetdev/signet/internal/cli/manifest"
	"github.com/signetdev/signet/internal/cli/pivtool"
	"github.com/signetdev/signet/internal/cli/pkcs11tool"
	"github.com/signetdev/signet/internal/cli/publickey"
	"github.com/signetdev/signet/internal/cli/save"
	"github.com/signetdev/signet/internal/cli/sign"
	"github.com/signetdev/signet/internal/cli/signblob"
	"github.com/signetdev/signet/internal/cli/signingconfig"
	"github.com/signetdev/signet/internal/cli/tree"
	"github.com/signetdev/signet/internal/cli/triangulate"
	"github.com/signetdev/signet/internal/cli/trustedroot"
	"github.com/signetdev/signet/internal/cli/upload"
	"github.com/signetdev/signet/internal/cli/verify"
	"github.com/signetdev/signet/internal/cli/verifyattestation"
	"github.com/signetdev/signet/internal/cli/verifyblob"
	"github.com/signetdev/signet/internal/cli/verifyblobattestation"
	"github.com/signetdev/signet/internal/cli/version"
)

// All returns the constructors of every verb, in help order.
func All() []cli.Subcommand {
	return []cli.Subcommand{
		func(f *cli.Factory) *cobra.Command { return attest.NewCmdAttest(f, nil) },
		func(f *cli.Factory) *cobra.Command { return attestblob.NewCmdAttestBlob(f, nil) },
		func(f *cli.Factory) *cobra.Command { return generatekeypair.NewCmdGenerateKeyPair(f, nil) },
		func(f *cli.Factory) *cobra.Command { return importkeypair.NewCmdImportKeyPair(f, nil) },
		func(f *cli.Factory) *cobra.Command { return initialize.NewCmdInitialize(f, nil) },
		func(f *cli.Factory) *cobra.Command { return publickey.NewCmdPublicKey(f, nil) },
		func(f *cli.Factory) *cobra.Command { return sign.NewCmdSign(f, nil) },
		func(f *cli.Factory) *cobra.Command { return signblob.NewCmdSignBlob(f, nil) },
		func(f *cli.Factory) *cobra.Command { return verify.NewCmdVerify(f, nil) },
		func(f *cli.Factory) *cobra.Command { return verifyattestation.NewCmdVerifyAttestation(f, nil) },
		func(f *cli.Factory) *cobra.Command { return verifyblob.NewCmdVerifyBlob(f, nil) },
		func(f *cli.Factory) *cobra.Command {
			return verifyblobattestation.NewCmdVerifyBlobAttestation(f, nil)
		},
		func(f *cli.Factory) *cobra.Command { return version.NewCmdVersion(f, nil) },
		func(f *cli.Factory) *cobra.Command { return attach.NewCmdAttach(f) },
		func(f *cli.Factory) *cobra.Command { return clean.NewCmdClean(f, nil) },
		func(f *cli.Factory) *cobra.Command { return copycmd.NewCmdCopy(f, nil) },
		func(f *cli.Factory) *cobra.Command { return download.NewCmdDownload(f) },
		func(f *cli.Factory) *cobra.Command { return tree.NewCmdTree(f, nil) },
		func(f *cli.Factory) *cobra.Command { return triangulate.NewCmdTriangulate(f, nil) },
		func(f *cli.Factory) *cobra.Command { return save.NewCmdSave(f, nil) },
		func(f *cli.Factory) *cobra.Command { return load.NewCmdLoad(f, nil) },
		func(f *cli.Factory) *cobra.Command { return trustedroot.NewCmdTrustedRoot(f, nil) },
		func(f *cli.Factory) *cobra.Command { return signingconfig.NewCmdSigningConfig(f, nil) },
		func(f *cli.Factory) *cobra.Command { return bundle.NewCmdBundle(f) },
		func(f *cli.Factory) *cobra.Command { return envcmd.NewCmdEnv(f, nil) },
		func(f *cli.Factory) *cobra.Command { return login.NewCmdLogin(f, nil) },
		func(f *cli.Factory) *cobra.Command { return debug.NewCmdDebug(f, nil) },
		func(f *cli.Factory) *cobra.Command { return generate.NewCmdGenerate(f, nil) },
		func(f *cli.Factory) *cobra.Command { return upload.NewCmdUpload(f) },
		func(f *cli.Factory) *cobra.Command { return manifest.NewCmdManifest(f) },
		func(f *cli.Factory) *cobra.Command { return dockerfile.NewCmdDockerfile(f) },
		func(f *cli.Factory) *cobra.Command { return admission.NewCmdAdmission(f) },
		func(f *cli.Factory) *cobra.Command { return pkcs11tool.NewCmdPKCS11Tool(f, nil) },
		func(f *cli.Factory) *cobra.Command { return pivtool.NewCmdPIVTool(f) },
	}
}
