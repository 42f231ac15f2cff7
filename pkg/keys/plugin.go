package keys

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/common"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/encoding"
)

// A KMS plugin speaks sigstore's cliplugin protocol (the protocol version
// and a JSON document as arguments, the data on stdin, a JSON answer on
// stdout). sigstore's own client only looks on PATH; signet also finds
// the plugins shipped beside its executable (bin/sigstore-kms-*), so a
// user of the release archive needs no configuration. Its client is also
// ours because sigstore's ends the process (log.Fatal) when
// DefaultAlgorithm fails.

// maxPluginResponse bounds what is read from a plugin's stdout: a public
// key or a signature is a few KB.
const maxPluginResponse = 1 << 20

// findPlugin returns the path of sigstore-kms-<scheme>: on PATH first (as
// cosign finds it, so a user's own plugin wins), else beside signet's own
// executable (symlinks resolved: `ln -s signet cosign` still finds them).
func findPlugin(scheme string) (string, error) {
	name := cliplugin.PluginBinaryPrefix + scheme
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", exec.ErrNotFound
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	p := filepath.Join(filepath.Dir(exe), name)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return p, nil
	}
	return "", exec.ErrNotFound
}

// pluginKey is a KMS key served by a plugin program.
type pluginKey struct {
	path   string // the plugin's executable
	scheme string
	init   common.InitOptions
}

func newPluginKey(ctx context.Context, path, ref string, hash crypto.Hash) *pluginKey {
	scheme, keyID, _ := strings.Cut(ref, "://")
	k := &pluginKey{path: path, scheme: scheme, init: common.InitOptions{
		ProtocolVersion: common.ProtocolVersion,
		KeyResourceID:   keyID,
		HashFunc:        hash,
		RPCOptions:      encoding.PackRPCOptions(nil),
	}}
	if d, ok := ctx.Deadline(); ok {
		k.init.CtxDeadline = &d
	}
	return k
}

// call runs the plugin once. A plugin's error becomes one line that names
// the backend: the providers' messages (Vault's, for one) span lines.
func (k *pluginKey) call(ctx context.Context, stdin io.Reader, args *common.MethodArgs) (*common.PluginResp, error) {
	enc, err := json.Marshal(&common.PluginArgs{InitOptions: &k.init, MethodArgs: args})
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, k.path, common.ProtocolVersion, string(enc))
	cmd.Stdin = stdin
	cmd.Stderr = os.Stderr // as sigstore runs plugins: their diagnostics are the user's
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: maxPluginResponse}
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("%s: running plugin %s: %w", k.scheme, k.path, err)
	}
	var resp common.PluginResp
	if jerr := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &resp); jerr != nil {
		if err != nil {
			return nil, fmt.Errorf("%s: plugin %s failed (%v) without an answer", k.scheme, k.path, err)
		}
		return nil, fmt.Errorf("%s: plugin %s: parsing its answer: %w", k.scheme, k.path, jerr)
	}
	if resp.ErrorMessage != "" {
		return nil, fmt.Errorf("%s: %s", k.scheme, strings.Join(strings.Fields(resp.ErrorMessage), " "))
	}
	return &resp, nil
}

// DefaultAlgorithm is the plugin's default, "" when it cannot say (see
// defaultAlgorithm for the error).
func (k *pluginKey) DefaultAlgorithm() string {
	alg, _ := k.defaultAlgorithm(context.Background())
	return alg
}

func (k *pluginKey) defaultAlgorithm(ctx context.Context) (string, error) {
	resp, err := k.call(ctx, nil, &common.MethodArgs{MethodName: common.DefaultAlgorithmMethodName, DefaultAlgorithm: &common.DefaultAlgorithmArgs{}})
	if err != nil {
		return "", err
	}
	if resp.DefaultAlgorithm == nil || resp.DefaultAlgorithm.DefaultAlgorithm == "" {
		return "", fmt.Errorf("%s: plugin %s gave no default algorithm", k.scheme, k.path)
	}
	return resp.DefaultAlgorithm.DefaultAlgorithm, nil
}

func (k *pluginKey) CreateKey(ctx context.Context, algorithm string) (crypto.PublicKey, error) {
	args := &common.CreateKeyArgs{Algorithm: algorithm}
	if d, ok := ctx.Deadline(); ok {
		args.CtxDeadline = &d
	}
	resp, err := k.call(ctx, nil, &common.MethodArgs{MethodName: common.CreateKeyMethodName, CreateKey: args})
	if err != nil {
		return nil, err
	}
	if resp.CreateKey == nil {
		return nil, fmt.Errorf("%s: plugin %s gave no public key", k.scheme, k.path)
	}
	return cryptoutils.UnmarshalPEMToPublicKey(resp.CreateKey.PublicKeyPEM)
}

func (k *pluginKey) PublicKey(opts ...signature.PublicKeyOption) (crypto.PublicKey, error) {
	ctx := context.Background()
	for _, o := range opts {
		o.ApplyContext(&ctx)
	}
	resp, err := k.call(ctx, nil, &common.MethodArgs{MethodName: common.PublicKeyMethodName,
		PublicKey: &common.PublicKeyArgs{PublicKeyOptions: encoding.PackPublicKeyOptions(opts)}})
	if err != nil {
		return nil, err
	}
	if resp.PublicKey == nil {
		return nil, fmt.Errorf("%s: plugin %s gave no public key", k.scheme, k.path)
	}
	return cryptoutils.UnmarshalPEMToPublicKey(resp.PublicKey.PublicKeyPEM)
}

func (k *pluginKey) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	ctx := context.Background()
	for _, o := range opts {
		o.ApplyContext(&ctx)
	}
	resp, err := k.call(ctx, message, &common.MethodArgs{MethodName: common.SignMessageMethodName,
		SignMessage: &common.SignMessageArgs{SignOptions: encoding.PackSignOptions(opts)}})
	if err != nil {
		return nil, err
	}
	if resp.SignMessage == nil || len(resp.SignMessage.Signature) == 0 {
		return nil, fmt.Errorf("%s: plugin %s gave no signature", k.scheme, k.path)
	}
	return resp.SignMessage.Signature, nil
}

func (k *pluginKey) VerifySignature(sig, message io.Reader, opts ...signature.VerifyOption) error {
	b, err := io.ReadAll(io.LimitReader(sig, maxPluginResponse))
	if err != nil {
		return err
	}
	ctx := context.Background()
	for _, o := range opts {
		o.ApplyContext(&ctx)
	}
	_, err = k.call(ctx, message, &common.MethodArgs{MethodName: common.VerifySignatureMethodName,
		VerifySignature: &common.VerifySignatureArgs{Signature: b, VerifyOptions: encoding.PackVerifyOptions(opts)}})
	return err
}

// limitedWriter keeps the first n bytes and fails after that, so a
// runaway plugin cannot fill memory.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, errors.New("plugin answer too large")
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}
