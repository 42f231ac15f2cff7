package keybackends

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// LocalKMS is a running local-kms: the AWS KMS API over plain HTTP.
type LocalKMS struct {
	Endpoint string // http://127.0.0.1:port
	Region   string
	Log      string
}

var kmsStarted = regexp.MustCompile(`Local KMS started on [0-9.]*:([0-9]+)`)

// StartLocalKMS starts local-kms with its data in a temporary directory,
// listening on 127.0.0.1 only (the wrapper build in
// internal/testing/stack/localkmsbuild). PORT=0 lets it pick a free port,
// which it logs.
func StartLocalKMS(t testing.TB) *LocalKMS {
	t.Helper()
	bin := cachedBinary(t, "local-kms-loopback@"+localstack.LocalKMSVersion, "local-kms")
	dir := t.TempDir()
	k := &LocalKMS{Region: "us-east-1", Log: filepath.Join(dir, "local-kms.log")}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(baseEnv("PORT", "KMS_*"), "PORT=0", "KMS_DATA_PATH="+filepath.Join(dir, "data"),
		"KMS_REGION="+k.Region, "KMS_ACCOUNT_ID=111122223333")
	startProcess(t, cmd, k.Log)
	waitFor(t, "local-kms", k.Log, 20*time.Second, func(ctx context.Context) error {
		if k.Endpoint == "" {
			f, err := os.Open(k.Log)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if m := kmsStarted.FindStringSubmatch(sc.Text()); m != nil {
					k.Endpoint = "http://127.0.0.1:" + m[1]
				}
			}
			if k.Endpoint == "" {
				return fmt.Errorf("no start line in %s yet", k.Log)
			}
		}
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", k.Endpoint[len("http://"):])
		if err != nil {
			return err
		}
		return c.Close()
	})
	return k
}

// Env is what an AWS SDK client (signet's plugin, cosign) needs to reach
// this local-kms: the endpoint over plain HTTP, static credentials (it
// checks no signature) and no instance metadata. AWS_CA_BUNDLE, which this
// machine sets, is dropped: with it the SDK rejects the custom client the
// TLS-skip option needs, and plain HTTP needs no CA.
func (k *LocalKMS) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + k.Endpoint,
		"AWS_REGION=" + k.Region,
		"AWS_ACCESS_KEY_ID=signet-e2e",
		"AWS_SECRET_ACCESS_KEY=signet-e2e-not-a-secret",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}

// DropEnv lists variables a client of this backend must not inherit.
func (k *LocalKMS) DropEnv() []string {
	return []string{"AWS_*"}
}
