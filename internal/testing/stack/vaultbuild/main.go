// Command vault-transit is HashiCorp Vault's own server core, HTTP API and
// transit secrets engine, started as `vault server -dev` starts them (in
// memory, initialised, unsealed, a root token of the caller's choosing),
// for signet's key-backend tests only (not shipped). It links only what
// hashivault:// and openbao:// keys use: Vault's `command` package links
// every builtin plugin and compiles ~2.7 times the source, which did not
// fit a cold CI run (docs/KEYS.md has the numbers).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/audit"
	"github.com/hashicorp/vault/builtin/logical/transit"
	"github.com/hashicorp/vault/helper/namespace"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
)

func main() {
	fs := flag.NewFlagSet("vault-transit", flag.ExitOnError)
	listen := fs.String("dev-listen-address", "127.0.0.1:8200", "address to serve Vault's HTTP API on")
	token := fs.String("dev-root-token-id", "", "ID of the root token to create (required)")
	_ = fs.Parse(os.Args[1:])
	if *token == "" {
		fmt.Fprintln(os.Stderr, "vault-transit: -dev-root-token-id is required")
		os.Exit(2)
	}
	if err := run(*listen, *token); err != nil {
		fmt.Fprintln(os.Stderr, "vault-transit:", err)
		os.Exit(1)
	}
}

func run(listen, token string) error {
	logger := hclog.New(&hclog.LoggerOptions{Name: "vault", Level: hclog.Info, Output: os.Stderr})
	backend, err := inmem.NewInmem(nil, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	addr := "http://" + ln.Addr().String()
	core, err := vault.NewCore(&vault.CoreConfig{
		Physical:           backend,
		LogicalBackends:    map[string]logical.Factory{"transit": transit.Factory},
		CredentialBackends: map[string]logical.Factory{},
		AuditBackends:      map[string]audit.Factory{},
		BuiltinRegistry:    noBuiltins{},
		DisableMlock:       true,
		Logger:             logger,
		RedirectAddr:       addr,
		DevToken:           token,
	})
	if err != nil {
		return fmt.Errorf("creating the core: %w", err)
	}
	if err := devInit(core, token); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           vaulthttp.Handler.Handler(&vault.HandlerProperties{Core: core, ListenerConfig: &configutil.Listener{Address: ln.Addr().String()}}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	logger.Info("vault-transit serving", "addr", addr)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return core.Shutdown()
}

// devInit does what `vault server -dev` does before serving: initialise
// with one unseal key, unseal, and replace the generated root token by
// one with the given ID.
func devInit(core *vault.Core, token string) error {
	ctx := namespace.ContextWithNamespace(context.Background(), namespace.RootNamespace)
	init, err := core.Initialize(ctx, &vault.InitParams{
		BarrierConfig: &vault.SealConfig{SecretShares: 1, SecretThreshold: 1, Name: "shamir"},
	})
	if err != nil {
		return fmt.Errorf("initialising: %w", err)
	}
	if ok, err := core.Unseal(init.SecretShares[0]); err != nil || !ok {
		return fmt.Errorf("unsealing: sealed=%v: %v", !ok, err)
	}
	req := &logical.Request{
		ID:          "dev-gen-root",
		Operation:   logical.UpdateOperation,
		ClientToken: init.RootToken,
		Path:        "auth/token/create",
		Data: map[string]interface{}{
			"id": token, "policies": []string{"root"}, "no_parent": true, "no_default_policy": true,
		},
	}
	resp, err := core.HandleRequest(ctx, req)
	if err != nil || resp == nil || resp.Auth == nil {
		if resp != nil && resp.IsError() {
			err = resp.Error()
		}
		return fmt.Errorf("creating the root token: %v", err)
	}
	req.ID, req.Path, req.Data = "dev-revoke-init-root", "auth/token/revoke-self", nil
	if _, err := core.HandleRequest(ctx, req); err != nil {
		return fmt.Errorf("revoking the initial root token: %w", err)
	}
	return nil
}

// noBuiltins is a plugin registry with no builtin plugins: the only
// engine, transit, is given to the core directly.
type noBuiltins struct{}

func (noBuiltins) Contains(string, consts.PluginType) bool { return false }
func (noBuiltins) Get(string, consts.PluginType) (func() (interface{}, error), bool) {
	return nil, false
}
func (noBuiltins) Keys(consts.PluginType) []string { return nil }
func (noBuiltins) DeprecationStatus(string, consts.PluginType) (consts.DeprecationStatus, bool) {
	return consts.Unknown, false
}
func (noBuiltins) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }
