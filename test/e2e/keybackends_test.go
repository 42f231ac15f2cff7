//go:build e2e

package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/keybackends"
	"github.com/signetdev/signet/internal/testing/stack"
)

// The key-backend tests run signet as a user gets it: the binary and the
// KMS plugins `make build` puts beside it (no provider compiled in, no
// plugin on PATH), against real backends on 127.0.0.1, with the stack's
// cosign v3 (its KMS providers compiled in) checking both directions.

// signetBuild is one `make` target built once per test binary into a
// temporary bin/ (BINDIR, so the KMS plugins `make build` makes land
// beside signet, as in a release archive).
type signetBuild struct {
	target string
	once   sync.Once
	bin    string
	err    error
}

var (
	defaultBuild = &signetBuild{target: "build"}        // no cgo, KMS as plugins
	pkcs11Build  = &signetBuild{target: "build-pkcs11"} // cgo, -tags pkcs11key
)

func (b *signetBuild) path(t *testing.T) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "signet-e2e-"+b.target+"-")
		if err != nil {
			b.err = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "make", "-s", b.target, "BINDIR="+dir)
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = errors.New("make " + b.target + ": " + err.Error() + "\n" + string(out))
			return
		}
		b.bin = filepath.Join(dir, "signet")
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// builtSignet is signet as `make build` makes it: KMS providers in the
// plugins beside it.
func builtSignet(t *testing.T) string { return defaultBuild.path(t) }

// backend is one way to reach a key: the environment its clients need
// (and must not inherit), and key references by name.
type backend struct {
	name string
	env  []string
	drop []string
	ref  func(name string) string
}

// backendTool runs bin (signet or cosign) with the backend's environment
// and nothing of the same kind inherited from this process.
func backendTool(env *stack.Env, name, bin string, be backend) imageTool {
	return binaryTool(env, name, bin, be.drop, be.env)
}

// exerciseKMS runs the matrix for one backend: generate-key-pair --kms,
// public-key (byte-identical to cosign's), sign-blob, sign and attest with
// --key URI, verification with the URI and with the exported PEM, by
// signet and by cosign, both directions.
func exerciseKMS(t *testing.T, env *stack.Env, be backend) {
	signet := backendTool(env, "signet", builtSignet(t), be)
	cosign := backendTool(env, "cosign", env.RequireCosign(t), be)
	dir := t.TempDir()
	ref := be.ref("signet-e2e")

	out := signet.ok(t, nil, "generate-key-pair", "--kms", ref, "--output-key-prefix", filepath.Join(dir, "gen"))
	pub := filepath.Join(dir, "gen.pub")
	pem := readString(t, pub)
	if !strings.Contains(pem, "BEGIN PUBLIC KEY") {
		t.Fatalf("generate-key-pair --kms wrote %q (stdout %q)", pem, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "gen.key")); err == nil {
		t.Error("generate-key-pair --kms wrote a private key file")
	}
	// Run again on the existing key: the same public key (as cosign).
	signet.ok(t, nil, "generate-key-pair", "--kms", ref, "--output-key-prefix", filepath.Join(dir, "again"))
	if again := readString(t, filepath.Join(dir, "again.pub")); again != pem {
		t.Errorf("second generate-key-pair --kms gave another key:\n%s\nfirst:\n%s", again, pem)
	}
	if got := signet.ok(t, nil, "public-key", "--key", ref); got != pem {
		t.Errorf("signet public-key:\n%s\ngenerate-key-pair wrote:\n%s", got, pem)
	}
	if got := cosign.ok(t, nil, "public-key", "--key", ref); got != pem {
		t.Errorf("cosign public-key:\n%s\nsignet's:\n%s", got, pem)
	}

	blob := writeFile(t, dir, "blob.txt", "signed in "+be.name+"\n")
	other := writeFile(t, dir, "other.txt", "not what was signed\n")
	verifyBlob := func(v imageTool, key, bundle string) {
		t.Helper()
		v.ok(t, nil, "verify-blob", "--key", key, "--trusted-root", env.TrustedRoot, "--bundle", bundle, blob)
		if r := v.run(t, nil, "verify-blob", "--key", key, "--trusted-root", env.TrustedRoot, "--bundle", bundle, other); r.code == 0 {
			t.Errorf("%s verify-blob --key %s accepted a bundle for another blob", v.name, key)
		}
	}
	for _, signer := range []imageTool{signet, cosign} {
		bundle := filepath.Join(dir, signer.name+".sigstore.json")
		signer.ok(t, nil, append(append([]string{"sign-blob", "--key", ref, "--bundle", bundle}, bundleSign(env)...), blob)...)
		for _, v := range []imageTool{signet, cosign} {
			verifyBlob(v, pub, bundle)
			verifyBlob(v, ref, bundle)
		}
	}

	// --issue-certificate (deprecated in cosign v3, still in pipelines):
	// Fulcio certifies the KMS key, and the bundle verifies keyless-style.
	req := stack.TokenRequest{ProjectPath: "acme/kms-" + be.name, Ref: "main"}
	for _, signer := range []imageTool{signet, cosign} {
		bundle := filepath.Join(dir, signer.name+".cert.sigstore.json")
		signer.ok(t, nil, append(append([]string{"sign-blob", "--key", ref, "--issue-certificate", "--identity-token", env.Token(t, req),
			"--bundle", bundle}, bundleSign(env)...), blob)...)
		for _, v := range []imageTool{signet, cosign} {
			v.ok(t, nil, "verify-blob", "--trusted-root", env.TrustedRoot, "--bundle", bundle,
				"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer, blob)
		}
	}

	pred := writeFile(t, dir, "provenance.json", imageProvenance)
	img := env.PushRandomImageTo(t, env.Registry, "e2e/keys-"+be.name)
	signet.ok(t, nil, append(append([]string{"sign", "--key", ref}, bundleSign(env)...), img)...)
	signet.ok(t, nil, append(append([]string{"attest", "--key", ref, "--predicate", pred, "--type", "slsaprovenance1"}, bundleSign(env)...), img)...)
	for _, v := range []imageTool{signet, cosign} {
		for _, key := range []string{pub, ref} {
			wantDigest(t, v.ok(t, nil, "verify", "--trusted-root", env.TrustedRoot, "--key", key, img), img)
			wantDigest(t, v.ok(t, nil, "verify-attestation", "--type", "slsaprovenance1", "--trusted-root", env.TrustedRoot, "--key", key, img), img)
		}
	}
	img2 := env.PushRandomImageTo(t, env.Registry, "e2e/keys-"+be.name)
	cosign.ok(t, nil, append(append([]string{"sign", "--key", ref}, bundleSign(env)...), img2)...)
	wantDigest(t, signet.ok(t, nil, "verify", "--trusted-root", env.TrustedRoot, "--key", pub, img2), img2)
}

// wantOneLineFailure runs signet, expects a failure whose error is one
// line naming want (the backend and the reason), and no secret.
func wantOneLineFailure(t *testing.T, tl imageTool, secrets []string, want []string, args ...string) {
	t.Helper()
	r := tl.run(t, nil, args...)
	if r.code == 0 {
		t.Fatalf("signet %s succeeded", strings.Join(args, " "))
	}
	msg := strings.TrimSpace(r.stderr)
	t.Logf("signet %s: %s", args[0], msg) // checked below to hold no secret
	if strings.Count(msg, "\n") != 0 {
		t.Errorf("signet %s: error is not one line:\n%s", strings.Join(args, " "), msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("signet %s: error %q does not name %q", strings.Join(args, " "), msg, w)
		}
	}
	for _, s := range secrets {
		if strings.Contains(r.stderr+r.stdout, s) {
			t.Errorf("signet %s printed a secret", strings.Join(args, " "))
		}
	}
}

// TestKeyBackendAWSKMS: awskms:// keys in local-kms, reached through the
// plugin shipped beside signet with AWS_ENDPOINT_URL.
func TestKeyBackendAWSKMS(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	kms := keybackends.StartLocalKMS(t)
	be := backend{name: "awskms", env: kms.Env(), drop: kms.DropEnv(), ref: func(n string) string { return "awskms:///alias/" + n }}
	exerciseKMS(t, env, be)

	signet := backendTool(env, "signet", builtSignet(t), be)
	blob := writeFile(t, t.TempDir(), "b.txt", "x\n")
	wantOneLineFailure(t, signet, nil, []string{"awskms", "alias/nope"}, append(append([]string{"sign-blob", "--key", "awskms:///alias/nope"}, bundleSign(env)...), blob)...)
	down := be
	down.env = append(append([]string{}, kms.Env()...), "AWS_ENDPOINT_URL=http://127.0.0.1:9", "AWS_MAX_ATTEMPTS=1")
	wantOneLineFailure(t, backendTool(env, "signet", builtSignet(t), down), nil, []string{"awskms", "127.0.0.1:9"},
		"public-key", "--key", "awskms:///alias/signet-e2e")
}

// TestKeyBackendVault: hashivault:// (VAULT_ADDR/VAULT_TOKEN) and
// openbao:// (BAO_ADDR/BAO_TOKEN) keys in a Vault dev server's transit
// engine. The Vault binary is built by hack/local-stack install; its
// absence fails the test.
func TestKeyBackendVault(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	v := keybackends.StartVault(t)
	t.Run("hashivault", func(t *testing.T) {
		exerciseKMS(t, env, backend{name: "hashivault", env: v.Env(), drop: v.DropEnv(), ref: func(n string) string { return "hashivault://" + n }})
	})
	t.Run("openbao", func(t *testing.T) {
		exerciseKMS(t, env, backend{name: "openbao", env: v.BaoEnv(), drop: v.DropEnv(), ref: func(n string) string { return "openbao://bao-" + n }})
	})
	t.Run("rsa", func(t *testing.T) {
		v.CreateKey(t, "rsa-key", "rsa-2048")
		be := backend{name: "hashivault-rsa", env: v.Env(), drop: v.DropEnv(), ref: func(n string) string { return "hashivault://" + n }}
		signet := backendTool(env, "signet", builtSignet(t), be)
		cosign := backendTool(env, "cosign", env.RequireCosign(t), be)
		dir := t.TempDir()
		blob := writeFile(t, dir, "blob.txt", "rsa\n")
		bundle := filepath.Join(dir, "b.sigstore.json")
		signet.ok(t, nil, "sign-blob", "--key", "hashivault://rsa-key", "--tlog-upload=false", "--use-signing-config=false", "--bundle", bundle, blob)
		pub := writeFile(t, dir, "rsa.pub", signet.ok(t, nil, "public-key", "--key", "hashivault://rsa-key"))
		cosign.ok(t, nil, "verify-blob", "--key", pub, "--insecure-ignore-tlog", "--bundle", bundle, blob)
	})
	t.Run("errors", func(t *testing.T) {
		be := backend{name: "hashivault", env: v.Env(), drop: v.DropEnv()}
		signet := backendTool(env, "signet", builtSignet(t), be)
		blob := writeFile(t, t.TempDir(), "b.txt", "x\n")
		wantOneLineFailure(t, signet, []string{v.Token}, []string{"hashivault", "nope"},
			append(append([]string{"sign-blob", "--key", "hashivault://nope"}, bundleSign(env)...), blob)...)
		bad := be
		bad.env = []string{"VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=s.wrong-token-0000"}
		wantOneLineFailure(t, backendTool(env, "signet", builtSignet(t), bad), []string{v.Token, "s.wrong-token-0000"}, []string{"hashivault", "permission denied"},
			"public-key", "--key", "hashivault://rsa-key")
		down := be
		down.env = []string{"VAULT_ADDR=http://127.0.0.1:9", "VAULT_TOKEN=" + v.Token, "VAULT_MAX_RETRIES=0"}
		wantOneLineFailure(t, backendTool(env, "signet", builtSignet(t), down), []string{v.Token}, []string{"hashivault", "127.0.0.1:9"},
			"public-key", "--key", "hashivault://rsa-key")
		none := be
		none.env = nil
		wantOneLineFailure(t, backendTool(env, "signet", builtSignet(t), none), nil, []string{"hashivault", "VAULT_ADDR"},
			"public-key", "--key", "hashivault://rsa-key")
	})
}

// TestKeyBackendCloudUnreachable: gcpkms:// and azurekms:// have no local
// service to test against (docs/KEYS.md); their shipped plugins are found
// beside signet and fail in one line naming the backend and the reason.
func TestKeyBackendCloudUnreachable(t *testing.T) {
	env := stack.Get(t)
	// No credentials at all (HOME is a fresh directory): Google's ADC
	// finds none; Azure's first request fails.
	be := backend{name: "cloud", drop: []string{"GOOGLE_*", "CLOUDSDK_*", "AZURE_*"}}
	signet := backendTool(env, "signet", builtSignet(t), be)
	wantOneLineFailure(t, signet, nil, []string{"gcpkms:", "credentials"},
		"public-key", "--key", "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k")
	wantOneLineFailure(t, signet, nil, []string{"azurekms:"}, "public-key", "--key", "azurekms://signet-e2e.vault.azure.net/k")
	wantOneLineFailure(t, signet, nil, []string{"piv-tool", "no PIV"}, "piv-tool", "attestation")
}
