package admission

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/httpx"
	"github.com/signetdev/signet/pkg/admission"
)

const fetchTimeout = 30 * time.Second

// fetchPolicy reads a ClusterImagePolicy's remote policy over the
// factory's transport, retried on transient failures and bounded by
// admission.MaxPolicySize. Its content is checked against the policy's
// sha256sum by pkg/admission, so plain http is as safe as https here.
func fetchPolicy(f *cli.Factory) func(ctx context.Context, rawURL string) ([]byte, error) {
	client := &http.Client{Transport: httpx.NewRetry(f.Transport)}
	return func(ctx context.Context, rawURL string) ([]byte, error) {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("want an http(s) URL")
		}
		// A slow server must not hold up loading the other policies.
		ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP %s", resp.Status)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, admission.MaxPolicySize+1))
		if err != nil {
			return nil, err
		}
		if len(data) > admission.MaxPolicySize {
			return nil, fmt.Errorf("more than %d bytes", admission.MaxPolicySize)
		}
		return data, nil
	}
}
