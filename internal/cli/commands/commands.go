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

// All returns every verb, in help order. Each Name must be its command's
// cobra Name() (TestVerbNames checks): a run builds only the verb named.
func All() []cli.Verb {
	return []cli.Verb{
		{Name: "attest", New: func(f *cli.Factory) *cobra.Command { return attest.NewCmdAttest(f, nil) }},
		{Name: "attest-blob", New: func(f *cli.Factory) *cobra.Command { return attestblob.NewCmdAttestBlob(f, nil) }},
		{Name: "generate-key-pair", New: func(f *cli.Factory) *cobra.Command { return generatekeypair.NewCmdGenerateKeyPair(f, nil) }},
		{Name: "import-key-pair", New: func(f *cli.Factory) *cobra.Command { return importkeypair.NewCmdImportKeyPair(f, nil) }},
		{Name: "initialize", New: func(f *cli.Factory) *cobra.Command { return initialize.NewCmdInitialize(f, nil) }},
		{Name: "public-key", New: func(f *cli.Factory) *cobra.Command { return publickey.NewCmdPublicKey(f, nil) }},
		{Name: "sign", New: func(f *cli.Factory) *cobra.Command { return sign.NewCmdSign(f, nil) }},
		{Name: "sign-blob", New: func(f *cli.Factory) *cobra.Command { return signblob.NewCmdSignBlob(f, nil) }},
		{Name: "verify", New: func(f *cli.Factory) *cobra.Command { return verify.NewCmdVerify(f, nil) }},
		{Name: "verify-attestation", New: func(f *cli.Factory) *cobra.Command { return verifyattestation.NewCmdVerifyAttestation(f, nil) }},
		{Name: "verify-blob", New: func(f *cli.Factory) *cobra.Command { return verifyblob.NewCmdVerifyBlob(f, nil) }},
		{Name: "verify-blob-attestation", New: func(f *cli.Factory) *cobra.Command { return verifyblobattestation.NewCmdVerifyBlobAttestation(f, nil) }},
		{Name: "version", New: func(f *cli.Factory) *cobra.Command { return version.NewCmdVersion(f, nil) }},
		{Name: "attach", New: func(f *cli.Factory) *cobra.Command { return attach.NewCmdAttach(f) }},
		{Name: "clean", New: func(f *cli.Factory) *cobra.Command { return clean.NewCmdClean(f, nil) }},
		{Name: "copy", New: func(f *cli.Factory) *cobra.Command { return copycmd.NewCmdCopy(f, nil) }},
		{Name: "download", New: func(f *cli.Factory) *cobra.Command { return download.NewCmdDownload(f) }},
		{Name: "tree", New: func(f *cli.Factory) *cobra.Command { return tree.NewCmdTree(f, nil) }},
		{Name: "triangulate", New: func(f *cli.Factory) *cobra.Command { return triangulate.NewCmdTriangulate(f, nil) }},
		{Name: "save", New: func(f *cli.Factory) *cobra.Command { return save.NewCmdSave(f, nil) }},
		{Name: "load", New: func(f *cli.Factory) *cobra.Command { return load.NewCmdLoad(f, nil) }},
		{Name: "trusted-root", New: func(f *cli.Factory) *cobra.Command { return trustedroot.NewCmdTrustedRoot(f, nil) }},
		{Name: "signing-config", New: func(f *cli.Factory) *cobra.Command { return signingconfig.NewCmdSigningConfig(f, nil) }},
		{Name: "bundle", New: func(f *cli.Factory) *cobra.Command { return bundle.NewCmdBundle(f) }},
		{Name: "env", New: func(f *cli.Factory) *cobra.Command { return envcmd.NewCmdEnv(f, nil) }},
		{Name: "login", New: func(f *cli.Factory) *cobra.Command { return login.NewCmdLogin(f, nil) }},
		{Name: "debug", New: func(f *cli.Factory) *cobra.Command { return debug.NewCmdDebug(f, nil) }},
		{Name: "generate", New: func(f *cli.Factory) *cobra.Command { return generate.NewCmdGenerate(f, nil) }},
		{Name: "upload", New: func(f *cli.Factory) *cobra.Command { return upload.NewCmdUpload(f) }},
		{Name: "manifest", New: func(f *cli.Factory) *cobra.Command { return manifest.NewCmdManifest(f) }},
		{Name: "dockerfile", New: func(f *cli.Factory) *cobra.Command { return dockerfile.NewCmdDockerfile(f) }},
		{Name: "admission", New: func(f *cli.Factory) *cobra.Command { return admission.NewCmdAdmission(f) }},
		{Name: "pkcs11-tool", New: func(f *cli.Factory) *cobra.Command { return pkcs11tool.NewCmdPKCS11Tool(f, nil) }},
		{Name: "piv-tool", New: func(f *cli.Factory) *cobra.Command { return pivtool.NewCmdPIVTool(f) }},
	}
}
