package trust

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"testing"

	"github.com/signetdev/signet/pkg/keys"
)

// realTrustMaterial returns the DER certificates and public keys of the
// public-good trusted root signet embeds (the seeds of the fuzz targets).
func realTrustMaterial(f *testing.F) (certs, keys [][]byte) {
	var tr struct {
		CAs []struct {
			CertChain struct {
				Certificates []struct {
					RawBytes string `json:"rawBytes"`
				} `json:"certificates"`
			} `json:"certChain"`
		} `json:"certificateAuthorities"`
		TSAs []struct {
			CertChain struct {
				Certificates []struct {
					RawBytes string `json:"rawBytes"`
				} `json:"certificates"`
			} `json:"certChain"`
		} `json:"timestampAuthorities"`
		Tlogs  []tlogJSON `json:"tlogs"`
		Ctlogs []tlogJSON `json:"ctlogs"`
	}
	if err := json.Unmarshal([]byte(embeddedTrustedRootJSON), &tr); err != nil {
		f.Fatal(err)
	}
	for _, ca := range append(tr.CAs, tr.TSAs...) {
		for _, c := range ca.CertChain.Certificates {
			der, err := base64.StdEncoding.DecodeString(c.RawBytes)
			if err != nil {
				f.Fatal(err)
			}
			certs = append(certs, der)
		}
	}
	for _, l := range append(tr.Tlogs, tr.Ctlogs...) {
		der, err := base64.StdEncoding.DecodeString(l.PublicKey.RawBytes)
		if err != nil {
			f.Fatal(err)
		}
		keys = append(keys, der)
	}
	return certs, keys
}

// FuzzParseRemote: remote.json is written by cosign or anyone with access
// to the cache directory.
func FuzzParseRemote(f *testing.F) {
	for _, s := range []string{
		`{"mirror":"https://tuf-repo-cdn.sigstore.dev"}`, // as cosign initialize writes it
		`{"mirror":"file:///srv/tuf"}`,
		`{"mirror":"https://sigstore-tuf-root.storage.googleapis.com","extra":1}`,
		`{}`, `null`, `{"mirror":null}`, `{"mirror":"gs://bucket"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseRemote(data)
		if err != nil || m == "" {
			return
		}
		if err := checkMirrorURL(m); err != nil {
			t.Fatalf("accepted mirror %q fails its own check: %v", m, err)
		}
		b, _ := json.Marshal(map[string]string{"mirror": m})
		if again, err := parseRemote(b); err != nil || again != m {
			t.Fatalf("round trip of %q: %q, %v", m, again, err)
		}
	})
}

// FuzzParseCertificatesPEM: SIGSTORE_ROOT_FILE, SIGSTORE_TSA_CERTIFICATE_FILE
// and the lead's --certificate-chain style flags.
func FuzzParseCertificatesPEM(f *testing.F) {
	certs, _ := realTrustMaterial(f)
	var all []byte
	for _, der := range certs {
		one := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		f.Add(one)
		all = append(all, one...)
	}
	f.Add(all)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseCertificatesPEM(data)
		if err != nil {
			return
		}
		if len(got) == 0 {
			t.Fatal("no error and no certificate")
		}
		leaves, intermediates, roots := splitChain(got)
		if len(leaves)+len(intermediates)+len(roots) != len(got) {
			t.Fatal("splitChain lost certificates")
		}
		_ = CheckTimestampChain(got)
		_ = fulcioCAs(roots, intermediates)
		_ = timestampAuthorities(got)
	})
}

// FuzzParsePublicKey: SIGSTORE_REKOR_PUBLIC_KEY and
// SIGSTORE_CT_LOG_PUBLIC_KEY_FILE.
func FuzzParsePublicKey(f *testing.F) {
	_, derKeys := realTrustMaterial(f)
	for _, der := range derKeys {
		f.Add(der)
		f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	f.Add([]byte("-----BEGIN RSA PUBLIC KEY-----\nAA==\n-----END RSA PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := keys.ParsePublicKey(data)
		if err != nil {
			return
		}
		if tl, err := transparencyLog(pub); err == nil && len(tl.ID) != 32 {
			t.Fatalf("log ID of %d bytes", len(tl.ID))
		}
	})
}
