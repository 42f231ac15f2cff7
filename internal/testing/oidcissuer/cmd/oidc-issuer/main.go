// Command oidc-issuer serves the test OIDC issuer of package oidcissuer.
//
//	oidc-issuer -listen 127.0.0.1:8080 -issuer http://127.0.0.1:8080 -key-file key.pem
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/signetdev/signet/internal/testing/oidcissuer"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "oidc-issuer:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	issuerURL := flag.String("issuer", "", "issuer URL (iss claim); default http://<listen>")
	keyFile := flag.String("key-file", "", "RSA signing key (PEM); created when missing; empty: a new key each start")
	gitlabHost := flag.String("gitlab-host", "gitlab.example.com", "host used in ci_config_ref_uri")
	flag.Parse()

	if *issuerURL == "" {
		*issuerURL = "http://" + *listen
	}
	var opts []oidcissuer.Option
	opts = append(opts, oidcissuer.WithGitLabHost(*gitlabHost))
	iss, err := newIssuer(*issuerURL, *keyFile, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: iss.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("oidc-issuer: issuer %s listening on %s", iss.URL(), ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newIssuer(url, keyFile string, opts []oidcissuer.Option) (*oidcissuer.Issuer, error) {
	if keyFile == "" {
		return oidcissuer.New(url, nil, opts...)
	}
	key, err := oidcissuer.LoadOrCreateKey(keyFile)
	if err != nil {
		return nil, err
	}
	return oidcissuer.New(url, key, opts...)
}
