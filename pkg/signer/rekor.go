package signer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	rekortilespb "github.com/sigstore/rekor-tiles/v2/pkg/generated/protobuf"
	rekorclient "github.com/sigstore/rekor/pkg/generated/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/signetdev/signet/internal/fileutil"
)

// newRekorV1Client is rekor's generated client over our HTTP client (so
// retries, deadlines and tests' transports apply), as rekor's
// GetRekorClient builds it.
func newRekorV1Client(base string, hc *http.Client) (*rekorclient.Rekor, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("Rekor URL %q: %w", base, err)
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("Rekor URL %q: want http(s)://host[:port]", base)
	}
	path := u.Path
	if path == "" || path == "/" {
		path = rekorclient.DefaultBasePath
	}
	jc := *hc
	jc.Transport = jsonErrors{hc.Transport}
	rt := httptransport.NewWithClient(u.Host, path, []string{u.Scheme}, &jc)
	rt.Consumers["application/json"] = runtime.JSONConsumer()
	rt.Consumers["application/x-pem-file"] = runtime.TextConsumer()
	rt.Producers["application/json"] = runtime.JSONProducer()
	return rekorclient.New(rt, strfmt.Default), nil
}

// jsonErrors turns a failed Rekor answer that is not JSON (a proxy's 502
// page, a plain-text 500) into Rekor's JSON error shape, so its generated
// client reports the status and the message instead of a decoding error.
type jsonErrors struct{ base http.RoundTripper }

func (j jsonErrors) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := j.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	body, _ := fileutil.ReadAllLimit(resp.Body, 4<<10)
	resp.Body.Close()
	msg, _ := json.Marshal(map[string]any{"code": resp.StatusCode, "message": resp.Status + ": " + snippet(body)})
	resp.Body = io.NopCloser(bytes.NewReader(msg))
	resp.ContentLength = int64(len(msg))
	resp.Header.Set("Content-Type", "application/json")
	return resp, nil
}

// maxRekorResponse bounds a Rekor v2 answer (an entry with its proof).
const maxRekorResponse = 1 << 20

// rekorV2Client adds hashedrekord entries to a Rekor v2 log. rekor-tiles'
// own writer takes no transport, so it could not retry or be tested
// offline; the wire format is its protobuf types in JSON.
type rekorV2Client struct {
	url string
	hc  *http.Client
}

// Add implements sigstore-go's sign.RekorV2Client.
func (c *rekorV2Client) Add(ctx context.Context, entry any) (*protorekor.TransparencyLogEntry, error) {
	// sigstore-go sends DSSE envelopes as a hashedrekord over their PAE too:
	// Rekor v2 deprecated its dsse entry type.
	hr, ok := entry.(*rekortilespb.HashedRekordRequestV002)
	if !ok {
		return nil, fmt.Errorf("Rekor v2: unsupported entry type %T", entry)
	}
	req := &rekortilespb.CreateEntryRequest{
		Spec: &rekortilespb.CreateEntryRequest_HashedRekordRequestV002{HashedRekordRequestV002: hr},
	}
	body, err := protojson.Marshal(req)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(c.url, "/") + "/api/v2/log/entries"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := fileutil.ReadAllLimit(resp.Body, maxRekorResponse)
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{URL: endpoint, Status: resp.Status, Body: data}
	}
	var tle protorekor.TransparencyLogEntry
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &tle); err != nil {
		return nil, fmt.Errorf("the answer of %s is not a log entry: %w", endpoint, err)
	}
	return &tle, nil
}

// HTTPError is a service's refusal: which URL, what status, what it said.
type HTTPError struct {
	URL    string
	Status string
	Body   []byte
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s answered %s: %s", e.URL, e.Status, snippet(e.Body))
}

// snippet is the start of a service's answer, on one line, for messages.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "(empty)"
	}
	return s
}
