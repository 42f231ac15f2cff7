// Package keystest gives tests a KMS without a cloud: a fake
// sigstore-kms-<scheme> plugin, served by the test binary itself, that
// speaks sigstore's cliplugin protocol and keeps its key in a local file.
//
// Use it from a test package:
//
//	func TestMain(m *testing.M) {
//		keystest.ServeFakeKMSIfPlugin()
//		os.Exit(m.Run())
//	}
//
//	func TestX(t *testing.T) {
//		ref := keystest.InstallFakeKMS(t, "fakekms") // "fakekms://<temp dir>/key.pem"
//		...
//	}
package keystest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/handler"
)

// BrokenKey in a key reference makes the fake plugin answer every call
// with an error (as a KMS that is down would).
const BrokenKey = "broken"

// Algorithm is the fake KMS's only (and default) algorithm.
const Algorithm = "ecdsa-p256-sha256"

// ServeFakeKMSIfPlugin serves one plugin call and exits when the test
// binary was started as a sigstore-kms-* plugin; otherwise it returns.
func ServeFakeKMSIfPlugin() {
	if !strings.HasPrefix(filepath.Base(os.Args[0]), cliplugin.PluginBinaryPrefix) {
		return
	}
	args, err := handler.GetPluginArgs(os.Args)
	if err != nil {
		_ = handler.WriteErrorResponse(os.Stdout, err)
		os.Exit(1)
	}
	path := args.InitOptions.KeyResourceID
	if strings.Contains(path, BrokenKey) {
		_ = handler.WriteErrorResponse(os.Stdout, errors.New("fake kms: the key service is unavailable"))
		os.Exit(1)
	}
	if _, err := handler.Dispatch(os.Stdout, os.Stdin, args, &fakeKMS{path: path}); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// InstallFakeKMS puts this test binary on PATH as sigstore-kms-<scheme>
// (for the rest of the test) and returns a key reference to a key file
// that does not exist yet: create it with generate-key-pair --kms, or with
// CreateKey.
func InstallFakeKMS(t testing.TB, scheme string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(bin, cliplugin.PluginBinaryPrefix+scheme)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return scheme + "://" + filepath.Join(t.TempDir(), "key.pem")
}

// CreateKey makes the key a reference from InstallFakeKMS names, as the
// plugin's createKey would, and returns its public key.
func CreateKey(t testing.TB, ref string) crypto.PublicKey {
	t.Helper()
	_, path, _ := strings.Cut(ref, "://")
	pub, err := (&fakeKMS{path: path}).CreateKey(context.Background(), Algorithm)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// fakeKMS keeps an ECDSA P-256 key, unencrypted, in a file.
type fakeKMS struct{ path string }

func (k *fakeKMS) DefaultAlgorithm() string      { return Algorithm }
func (k *fakeKMS) SupportedAlgorithms() []string { return []string{Algorithm} }

func (k *fakeKMS) CreateKey(_ context.Context, algorithm string) (crypto.PublicKey, error) {
	if algorithm != Algorithm {
		return nil, fmt.Errorf("fake kms: unsupported algorithm %q", algorithm)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(k.path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return priv.Public(), nil
}

func (k *fakeKMS) signer() (*signature.ECDSASignerVerifier, error) {
	b, err := os.ReadFile(k.path)
	if err != nil {
		return nil, fmt.Errorf("fake kms: no such key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("fake kms: key file is not PEM")
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("fake kms: not an ECDSA key")
	}
	return signature.LoadECDSASignerVerifier(ec, crypto.SHA256)
}

func (k *fakeKMS) PublicKey(...signature.PublicKeyOption) (crypto.PublicKey, error) {
	sv, err := k.signer()
	if err != nil {
		return nil, err
	}
	return sv.PublicKey()
}

func (k *fakeKMS) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	sv, err := k.signer()
	if err != nil {
		return nil, err
	}
	return sv.SignMessage(message, opts...)
}

func (k *fakeKMS) VerifySignature(sig, message io.Reader, opts ...signature.VerifyOption) error {
	sv, err := k.signer()
	if err != nil {
		return err
	}
	return sv.VerifySignature(sig, message, opts...)
}

func (k *fakeKMS) CryptoSigner(context.Context, func(error)) (crypto.Signer, crypto.SignerOpts, error) {
	return nil, nil, errors.New("fake kms: CryptoSigner is not part of the plugin protocol")
}
