package keybackends

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// Vault is a running Vault dev server (in memory, unsealed) with the
// transit engine mounted at transit/.
type Vault struct {
	Addr  string // http://127.0.0.1:port
	Token string // root token: a secret, never to appear in signet's output
	Log   string
}

// StartVault starts Vault's dev-mode server (vault-transit, built from
// the wrapper module by hack/local-stack install) on a free loopback port
// and mounts transit.
func StartVault(t testing.TB) *Vault {
	t.Helper()
	bin := cachedBinary(t, "vault-transit@"+localstack.VaultVersion, "vault-transit")
	dir := t.TempDir()
	// Vault refuses custom token IDs with its own prefixes ("s.", "hvs.").
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	v := &Vault{Addr: "http://127.0.0.1:" + strconv.Itoa(port), Token: "signet-e2e-" + hex.EncodeToString(tok[:]), Log: filepath.Join(dir, "vault.log")}
	cmd := exec.Command(bin, "-dev-root-token-id="+v.Token, "-dev-listen-address=127.0.0.1:"+strconv.Itoa(port))
	cmd.Dir = dir
	cmd.Env = append(baseEnv("VAULT_*", "BAO_*", "HOME"), "HOME="+dir)
	startProcess(t, cmd, v.Log)
	waitFor(t, "vault", v.Log, 60*time.Second, func(ctx context.Context) error {
		_, err := v.do(ctx, http.MethodGet, "sys/health", "")
		return err
	})
	if _, err := v.do(context.Background(), http.MethodPost, "sys/mounts/transit", `{"type":"transit"}`); err != nil {
		t.Fatalf("mounting transit: %v", err)
	}
	return v
}

// CreateKey makes a transit key of keyType (e.g. "ecdsa-p256", "rsa-2048").
func (v *Vault) CreateKey(t testing.TB, name, keyType string) {
	t.Helper()
	if _, err := v.do(context.Background(), http.MethodPost, "transit/keys/"+name, `{"type":"`+keyType+`"}`); err != nil {
		t.Fatalf("creating transit key %s: %v", name, err)
	}
}

func (v *Vault) do(ctx context.Context, method, path, body string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, v.Addr+"/v1/"+path, bytes.NewBufferString(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Vault-Token", v.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// Env points Vault's client (hashivault://) at this server.
func (v *Vault) Env() []string {
	return []string{"VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=" + v.Token}
}

// BaoEnv points the same provider at it as OpenBao (openbao://).
func (v *Vault) BaoEnv() []string {
	return []string{"BAO_ADDR=" + v.Addr, "BAO_TOKEN=" + v.Token}
}

// DropEnv lists variables a client of this backend must not inherit.
func (v *Vault) DropEnv() []string { return []string{"VAULT_*", "BAO_*", "TRANSIT_SECRET_ENGINE_PATH"} }
