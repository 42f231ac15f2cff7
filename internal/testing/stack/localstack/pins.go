package localstack

// Pinned versions. Newer releases of several of these need Go >= 1.27 (see
// ../shared/docs/local-stack.md); change a pin here and only that component
// is rebuilt by install.
const (
	FulcioVersion      = "v1.8.8"
	RekorTilesVersion  = "v2.3.0"
	TSAVersion         = "v2.1.3"
	CraneVersion       = "v0.22.1"
	CosignVersion      = "v3.1.3"
	CosignV2Version    = "v2.6.1"
	TrillianVersion    = "v1.8.0"
	RekorV1Version     = "v1.5.4"
	CTGoVersion        = "v1.4.0"
	trillianModulePath = "github.com/google/trillian"

	// Key backends for the KMS/HSM e2e tests (../shared/docs/kms-hsm.md).
	// VaultVersion must match the require in VaultWrapperDir/go.mod (a
	// unit test checks it): the wrapper pins vault, its api and sdk.
	LocalKMSVersion = "v0.0.0-20260228092603-2a5e92d09ab6"
	VaultVersion    = "v1.21.0"
	VaultWrapperDir = "internal/testing/stack/vaultbuild"
	// LocalKMSWrapperDir builds local-kms listening on 127.0.0.1 only;
	// LocalKMSVersion must match the require in its go.mod.
	LocalKMSWrapperDir = "internal/testing/stack/localkmsbuild"
)

// SyftVersion is the SBOM generator of the seed workflow e2e test
// (test/e2e/policy_test.go), a tool like cosign. Large: minutes cold.
const SyftVersion = "v1.57.1"

// Tools of the CI e2e tests (test/e2e/ci_*_test.go).
const (
	// The CycloneDX SBOM generator of the release pipeline (hack/release/sbom.sh).
	CycloneDXGomodVersion = "v1.10.0"
	// gitlab-ci-local runs .gitlab-ci.yml jobs. Releases after 4.72.0 need
	// Node 22 (Set.prototype.union); this machine kind has Node 20.
	GitLabCILocalVersion = "4.72.0"
)

// AptPackages are Debian packages install adds in full mode when the
// binary that names them is missing (as for MariaDB): SoftHSM2 is the
// PKCS#11 token of the e2e tests, opensc's pkcs11-tool makes its keys.
var AptPackages = []AptPackage{
	{Package: "softhsm2", Probe: "softhsm2-util"},
	{Package: "opensc", Probe: "pkcs11-tool"},
}

// AptPackage is a Debian package and a program it installs.
type AptPackage struct{ Package, Probe string }

// Component is one cache entry: a set of binaries built from one module
// version into CacheDir/bin/<Key>.
type Component struct {
	Key      string   // directory name, e.g. "fulcio@v1.8.8"
	Packages []string // go install arguments
	Binaries []string // names the packages produce
	FullOnly bool     // needed only in full mode
	Optional bool     // a failed build is recorded and not fatal
	Tool     bool     // a client (cosign), not a service: up does not need it
	// Files copied from the module cache into the component directory
	// (module-relative path → file name), e.g. the Trillian schema.
	ModuleFiles map[string]string
	Module      string // module path@version for ModuleFiles
	// NPM, when set, is an npm package@version installed with npm (under
	// node_modules/) instead of go install; Binaries are then paths in it.
	NPM string
	// Debian names commands the component needs on PATH, and the Debian
	// package that provides each, installed by install when missing.
	Debian map[string]string
	// Wrapper is a repository-relative directory holding a nested
	// go.mod/go.sum that pins a program go install cannot build (its
	// go.mod has replace directives). Packages are then built inside it,
	// one per entry of Binaries, with the wrapper's go.sum (-mod=readonly).
	Wrapper string
	Tags    []string // build tags
	CGO     bool     // build with CGO_ENABLED=1 (else the environment decides)
}

// Components lists everything install builds, in build order (core first).
var Components = []Component{
	{
		Key:      "fulcio@" + FulcioVersion,
		Packages: []string{"github.com/sigstore/fulcio@" + FulcioVersion},
		Binaries: []string{"fulcio"},
	},
	{
		Key:      "rekor-tiles@" + RekorTilesVersion,
		Packages: []string{"github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix@" + RekorTilesVersion},
		Binaries: []string{"posix"},
	},
	{
		Key:      "timestamp-authority@" + TSAVersion,
		Packages: []string{"github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server@" + TSAVersion},
		Binaries: []string{"timestamp-server"},
	},
	{
		Key:      "crane@" + CraneVersion,
		Packages: []string{"github.com/google/go-containerregistry/cmd/crane@" + CraneVersion},
		Binaries: []string{"crane"},
	},
	{
		Key:      "cosign@" + CosignVersion,
		Packages: []string{"github.com/sigstore/cosign/v3/cmd/cosign@" + CosignVersion},
		Binaries: []string{"cosign"},
		Tool:     true,
	},
	{
		Key: "trillian@" + TrillianVersion,
		Packages: []string{
			trillianModulePath + "/cmd/trillian_log_server@" + TrillianVersion,
			trillianModulePath + "/cmd/trillian_log_signer@" + TrillianVersion,
			trillianModulePath + "/cmd/createtree@" + TrillianVersion,
		},
		Binaries:    []string{"trillian_log_server", "trillian_log_signer", "createtree"},
		FullOnly:    true,
		Module:      trillianModulePath + "@" + TrillianVersion,
		ModuleFiles: map[string]string{"storage/mysql/schema/storage.sql": "storage.sql"},
	},
	{
		Key:      "rekor@" + RekorV1Version,
		Packages: []string{"github.com/sigstore/rekor/cmd/rekor-server@" + RekorV1Version},
		Binaries: []string{"rekor-server"},
		FullOnly: true,
	},
	{
		Key:      "certificate-transparency-go@" + CTGoVersion,
		Packages: []string{"github.com/google/certificate-transparency-go/trillian/ctfe/ct_server@" + CTGoVersion},
		Binaries: []string{"ct_server"},
		FullOnly: true,
	},
	{
		// local-kms's handler on 127.0.0.1 (its own main binds every
		// interface): the wrapper's main.
		Key:      "local-kms-loopback@" + LocalKMSVersion,
		Packages: []string{"."},
		Binaries: []string{"local-kms"},
		Wrapper:  LocalKMSWrapperDir,
		FullOnly: true,
		Tool:     true,
	},
	{
		// cosign with PKCS#11 support, the reference for the SoftHSM tests
		// (a second build of the cached version: cheap).
		Key:      "cosign-pkcs11key@" + CosignVersion,
		Packages: []string{"github.com/sigstore/cosign/v3/cmd/cosign@" + CosignVersion},
		Binaries: []string{"cosign"},
		Tags:     []string{"pkcs11key"},
		CGO:      true,
		FullOnly: true,
		Tool:     true,
	},
	{
		// Vault's server core, HTTP API and transit engine only (the
		// wrapper's main; docs/KEYS.md): ≈7.5–8 min cold, where the
		// full vault command is ≈17 min.
		Key:      "vault-transit@" + VaultVersion,
		Packages: []string{"."},
		Binaries: []string{"vault-transit"},
		Wrapper:  VaultWrapperDir,
		FullOnly: true,
		Tool:     true,
	},
	{
		Key:      "cosign@" + CosignV2Version,
		Packages: []string{"github.com/sigstore/cosign/v2/cmd/cosign@" + CosignV2Version},
		Binaries: []string{"cosign"},
		Optional: true,
		Tool:     true,
	},
	{
		// Optional: a syft that fails to build must not stop the
		// stack's install for every other test; TestSeedWorkflow then
		// fails, naming it.
		Key:      "syft@" + SyftVersion,
		Packages: []string{"github.com/anchore/syft/cmd/syft@" + SyftVersion},
		Binaries: []string{"syft"},
		Optional: true,
		Tool:     true,
	},
	{
		Key:      "cyclonedx-gomod@" + CycloneDXGomodVersion,
		Packages: []string{"github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@" + CycloneDXGomodVersion},
		Binaries: []string{"cyclonedx-gomod"},
		FullOnly: true,
		Tool:     true,
	},
	{
		Key:      "gitlab-ci-local@" + GitLabCILocalVersion,
		NPM:      "gitlab-ci-local@" + GitLabCILocalVersion,
		Binaries: []string{"node_modules/.bin/gitlab-ci-local"},
		FullOnly: true,
		Tool:     true,
		// gitlab-ci-local copies the checkout for each job with rsync.
		Debian: map[string]string{"npm": "npm", "rsync": "rsync"},
	},
}
