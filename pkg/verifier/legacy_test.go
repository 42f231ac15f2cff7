package verifier_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/shared"
	"github.com/signetdev/signet/pkg/verifier"

	"github.com/signetdev/signet/pkg/artifact"
)

// legacyFromV01 rewrites a real v0.1 hashedrekord bundle in cosign's
// legacy bundle format (sign-blob --bundle before v3): the same signature,
// certificate and Rekor entry, in cosign's field names.
func legacyFromV01(t *testing.T, path string) []byte {
	t.Helper()
	var b struct {
		VerificationMaterial struct {
			X509CertificateChain struct {
				Certificates []struct {
					RawBytes []byte `json:"rawBytes"`
				} `json:"certificates"`
			} `json:"x509CertificateChain"`
			TlogEntries []struct {
				LogIndex         string                 `json:"logIndex"`
				LogID            struct{ KeyID []byte } `json:"logId"`
				IntegratedTime   string                 `json:"integratedTime"`
				InclusionPromise struct {
					SignedEntryTimestamp []byte `json:"signedEntryTimestamp"`
				} `json:"inclusionPromise"`
				CanonicalizedBody []byte `json:"canonicalizedBody"`
			} `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		MessageSignature struct {
			Signature []byte `json:"signature"`
		} `json:"messageSignature"`
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	e := b.VerificationMaterial.TlogEntries[0]
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.VerificationMaterial.X509CertificateChain.Certificates[0].RawBytes})
	legacy := map[string]any{
		"base64Signature": base64.StdEncoding.EncodeToString(b.MessageSignature.Signature),
		"cert":            base64.StdEncoding.EncodeToString(certPEM),
		"rekorBundle": map[string]any{
			"SignedEntryTimestamp": e.InclusionPromise.SignedEntryTimestamp,
			"Payload": map[string]any{
				"body":           base64.StdEncoding.EncodeToString(e.CanonicalizedBody),
				"integratedTime": json.Number(e.IntegratedTime),
				"logIndex":       json.Number(e.LogIndex),
				"logID":          hex.EncodeToString(e.LogID.KeyID),
			},
		},
	}
	out, err := json.Marshal(legacy)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLegacyCosignBundle(t *testing.T) {
	src := shared.Path(t, "conformance", "happy-path-v0.1", "bundle.sigstore.json")
	tr, err := root.NewTrustedRootFromPath(shared.Path(t, "trust", "production-trusted-root.json"))
	if err != nil {
		t.Fatal(err)
	}
	art := artifact.FromFile(shared.Path(t, "conformance", "a.txt"), nil)
	p := verifier.Policy{Identity: exactIdentity(shared.ConformanceIdentity, shared.ConformanceIssuer)}

	legacy := legacyFromV01(t, src)
	b, format, err := verifier.ParseBundle(legacy, false)
	if err != nil {
		t.Fatal(err)
	}
	if format != verifier.FormatCosignLegacy {
		t.Fatalf("format %q", format)
	}
	if _, err := verifier.Verify(context.Background(), b, art, p, tr); err != nil {
		t.Fatalf("legacy bundle: %v", err)
	}

	// The SET binds the entry: a different integrated time must fail.
	tampered := strings.Replace(string(legacy), `"integratedTime":1689177396`, `"integratedTime":1689177397`, 1)
	if tampered == string(legacy) {
		t.Fatal("integratedTime not found in legacy bundle")
	}
	b, _, err = verifier.ParseBundle([]byte(tampered), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = verifier.Verify(context.Background(), b, art, p, tr)
	if err == nil || !strings.Contains(err.Error(), "signed entry timestamp (SET)") {
		t.Fatalf("tampered integrated time: %v", err)
	}

	// A signature from another bundle (GHSA-ccxc-vr6p-4858): the logged one
	// must be the one verified.
	var doc map[string]any
	json.Unmarshal(legacy, &doc)
	sig, _ := base64.StdEncoding.DecodeString(doc["base64Signature"].(string))
	sig[len(sig)/2] ^= 1
	doc["base64Signature"] = base64.StdEncoding.EncodeToString(sig)
	other, _ := json.Marshal(doc)
	b, _, err = verifier.ParseBundle(other, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = verifier.Verify(context.Background(), b, art, p, tr); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("signature not matching the Rekor entry: %v", err)
	}
}

func TestParseBundleRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":         `{`,
		"neither format":   `{"foo":1}`,
		"empty signature":  `{"base64Signature":""}`,
		"bad cert pem":     `{"base64Signature":"AAAA","cert":"bm90IHBlbQ=="}`,
		"bad rekor body":   `{"base64Signature":"AAAA","rekorBundle":{"Payload":{"body":"!!","logID":"00"}}}`,
		"unknown version":  `{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.9"}`,
		"v0.4 not allowed": `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.4+json"}`,
	} {
		if _, _, err := verifier.ParseBundle([]byte(in), false); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", name, err)
		}
	}
}
