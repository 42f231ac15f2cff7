//go:build e2e

package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/keybackends"
	"github.com/signetdev/signet/internal/testing/stack"
)

// TestKeyBackendPKCS11: a key in a SoftHSM2 token, through a pkcs11key
// build of signet and cosign's pkcs11key build, both directions; the
// pkcs11-tool listings match cosign's (less the PIN); a wrong PIN or token
// fails in one line without the PIN.
func TestKeyBackendPKCS11(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	tok := keybackends.NewToken(t, "signet-e2e")
	be := backend{name: "pkcs11", env: tok.Env(), drop: []string{"SOFTHSM2_CONF", "COSIGN_PKCS11_*"}}
	signet := backendTool(env, "signet", pkcs11Build.path(t), be)
	cosign := backendTool(env, "cosign", keybackends.CosignPKCS11(t), be)
	uri := tok.URI(true)
	dir := t.TempDir()

	pem := signet.ok(t, nil, "public-key", "--key", uri)
	if got := cosign.ok(t, nil, "public-key", "--key", uri); got != pem || !strings.Contains(pem, "BEGIN PUBLIC KEY") {
		t.Fatalf("public-key: signet\n%s\ncosign\n%s", pem, got)
	}
	pub := writeFile(t, dir, "token.pub", pem)
	// The environment form: module and PIN from COSIGN_PKCS11_*.
	viaEnv := map[string]string{"COSIGN_PKCS11_MODULE_PATH": tok.Module, "COSIGN_PKCS11_PIN": tok.PIN}
	if got := signet.ok(t, viaEnv, "public-key", "--key", "pkcs11:token="+tok.Label+";id=%01"); got != pem {
		t.Errorf("public-key with COSIGN_PKCS11_*: %s", got)
	}

	blob := writeFile(t, dir, "blob.txt", "signed in a token\n")
	for _, signer := range []imageTool{signet, cosign} {
		bundle := filepath.Join(dir, signer.name+".sigstore.json")
		signer.ok(t, nil, append(append([]string{"sign-blob", "--key", uri, "--bundle", bundle}, bundleSign(env)...), blob)...)
		for _, v := range []imageTool{signet, cosign} {
			v.ok(t, nil, "verify-blob", "--key", pub, "--trusted-root", env.TrustedRoot, "--bundle", bundle, blob)
		}
		signet.ok(t, nil, "verify-blob", "--key", uri, "--trusted-root", env.TrustedRoot, "--bundle", bundle, blob)
	}
	pred := writeFile(t, dir, "provenance.json", imageProvenance)
	img := env.PushRandomImageTo(t, env.Registry, "e2e/keys-pkcs11")
	signet.ok(t, nil, append(append([]string{"sign", "--key", uri}, bundleSign(env)...), img)...)
	signet.ok(t, nil, append(append([]string{"attest", "--key", uri, "--predicate", pred, "--type", "slsaprovenance1"}, bundleSign(env)...), img)...)
	wantDigest(t, cosign.ok(t, nil, "verify", "--trusted-root", env.TrustedRoot, "--key", pub, img), img)
	wantDigest(t, cosign.ok(t, nil, "verify-attestation", "--type", "slsaprovenance1", "--trusted-root", env.TrustedRoot, "--key", pub, img), img)
	wantDigest(t, signet.ok(t, nil, "verify", "--trusted-root", env.TrustedRoot, "--key", uri, img), img)
	img2 := env.PushRandomImageTo(t, env.Registry, "e2e/keys-pkcs11")
	cosign.ok(t, nil, append(append([]string{"sign", "--key", uri}, bundleSign(env)...), img2)...)
	wantDigest(t, signet.ok(t, nil, "verify", "--trusted-root", env.TrustedRoot, "--key", pub, img2), img2)

	// pkcs11-tool: cosign's layout; list-keys-uris without the PIN.
	tokens := signet.ok(t, nil, "pkcs11-tool", "list-tokens", "--module-path", tok.Module)
	if want := cosign.ok(t, nil, "pkcs11-tool", "list-tokens", "--module-path", tok.Module); tokens != want {
		t.Errorf("list-tokens:\nsignet\n%s\ncosign\n%s", tokens, want)
	}
	m := regexp.MustCompile(`Token in slot (\d+)\n\tLabel: ` + tok.Label + `\n`).FindStringSubmatch(tokens)
	if m == nil {
		t.Fatalf("list-tokens does not show token %s:\n%s", tok.Label, tokens)
	}
	keysOut := signet.ok(t, nil, "pkcs11-tool", "list-keys-uris", "--module-path", tok.Module, "--slot-id", m[1], "--pin", tok.PIN)
	want := cosign.ok(t, nil, "pkcs11-tool", "list-keys-uris", "--module-path", tok.Module, "--slot-id", m[1], "--pin", tok.PIN)
	if strings.Contains(keysOut, tok.PIN) || keysOut != strings.ReplaceAll(want, "&pin-value="+tok.PIN, "") {
		t.Errorf("list-keys-uris:\nsignet\n%s\ncosign (less the PIN)\n%s", keysOut, want)
	}

	wrong := strings.Replace(uri, "pin-value="+tok.PIN, "pin-value=40404040", 1)
	wantOneLineFailure(t, signet, []string{tok.PIN, "40404040"}, []string{"pkcs11", "CKR_PIN_INCORRECT", "pin-value=REDACTED"}, "public-key", "--key", wrong)
	noTok := strings.Replace(uri, "token="+tok.Label, "token=no-such-token", 1)
	wantOneLineFailure(t, signet, []string{tok.PIN}, []string{"pkcs11", "no-such-token"}, append(append([]string{"sign-blob", "--key", noTok}, bundleSign(env)...), blob)...)
}
