package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// maxResponse bounds what the client reads from the API server.
const maxResponse = 8 << 20

// Result is one API response: the status, the body and the admission
// warnings (the Warning headers, their text only).
type Result struct {
	Status   int
	Body     []byte
	Warnings []string
}

// Do sends one request to the API server as the admin user. body, when
// not nil, is JSON.
func (c *Cluster) Do(ctx context.Context, method, path string, body []byte) (Result, error) {
	client, err := c.httpClient()
	if err != nil {
		return Result{}, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Server+path, rd)
	if err != nil {
		return Result{}, err
	}
	if body != nil {
		ct := "application/json"
		if method == http.MethodPatch {
			ct = "application/merge-patch+json"
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return Result{}, err
	}
	return Result{Status: resp.StatusCode, Body: b, Warnings: warnings(resp.Header)}, nil
}

// warnings extracts the text of Warning headers (`299 - "text"`).
func warnings(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Warning") {
		const prefix = `299 - "`
		if len(v) > len(prefix) && v[:len(prefix)] == prefix && v[len(v)-1] == '"' {
			v = v[len(prefix) : len(v)-1]
		}
		out = append(out, v)
	}
	return out
}

// httpClient is built once from the PKI files, so a Cluster loaded from
// cluster.json works too.
func (c *Cluster) httpClient() (*http.Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	caPEM, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: no certificate", c.CAFile)
	}
	cert, err := tls.LoadX509KeyPair(c.path("pki", "admin.crt"), c.path("pki", "admin.key"))
	if err != nil {
		return nil, err
	}
	c.client = &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil, // loopback only, whatever HTTPS_PROXY says
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		},
	}
	return c.client, nil
}

// CA is the cluster's CA, to issue webhook serving certificates whose
// caBundle is CAPEM. It is nil for a cluster loaded from disk.
func (c *Cluster) CA() *CA { return c.ca }
