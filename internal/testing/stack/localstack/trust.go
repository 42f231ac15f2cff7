package localstack

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"time"
)

// Media types of the documents written by up.
const (
	TrustedRootMediaType   = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
	SigningConfigMediaType = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
)

// The JSON shapes below follow protobuf-specs' trustroot.v1 messages in
// their protojson form (lowerCamel names, bytes as base64).

type timeRange struct {
	Start string `json:"start"`
	End   string `json:"end,omitempty"`
}

type publicKey struct {
	RawBytes   string    `json:"rawBytes"`
	KeyDetails string    `json:"keyDetails"`
	ValidFor   timeRange `json:"validFor"`
}

type logID struct {
	KeyID string `json:"keyId"`
}

type tlogInstance struct {
	BaseURL       string    `json:"baseUrl"`
	HashAlgorithm string    `json:"hashAlgorithm"`
	PublicKey     publicKey `json:"publicKey"`
	LogID         logID     `json:"logId"`
	Operator      string    `json:"operator,omitempty"`
}

type distinguishedName struct {
	Organization string `json:"organization"`
	CommonName   string `json:"commonName"`
}

type certChain struct {
	Certificates []rawCert `json:"certificates"`
}

type rawCert struct {
	RawBytes string `json:"rawBytes"`
}

type certificateAuthority struct {
	Subject   distinguishedName `json:"subject"`
	URI       string            `json:"uri"`
	CertChain certChain         `json:"certChain"`
	ValidFor  timeRange         `json:"validFor"`
	Operator  string            `json:"operator,omitempty"`
}

type trustedRoot struct {
	MediaType              string                 `json:"mediaType"`
	Tlogs                  []tlogInstance         `json:"tlogs"`
	CertificateAuthorities []certificateAuthority `json:"certificateAuthorities"`
	Ctlogs                 []tlogInstance         `json:"ctlogs,omitempty"`
	TimestampAuthorities   []certificateAuthority `json:"timestampAuthorities"`
}

// Service is one URL in a signing config.
type Service struct {
	URL             string    `json:"url"`
	MajorAPIVersion int       `json:"majorApiVersion"`
	ValidFor        timeRange `json:"validFor"`
	Operator        string    `json:"operator"`
}

type serviceConfig struct {
	Selector string `json:"selector"`
}

type signingConfig struct {
	MediaType       string        `json:"mediaType"`
	CAURLs          []Service     `json:"caUrls"`
	OIDCURLs        []Service     `json:"oidcUrls"`
	RekorTlogURLs   []Service     `json:"rekorTlogUrls"`
	RekorTlogConfig serviceConfig `json:"rekorTlogConfig"`
	TSAURLs         []Service     `json:"tsaUrls"`
	TSAConfig       serviceConfig `json:"tsaConfig"`
}

// Operator names our services in trust documents.
const Operator = "signet-local"

// SigningConfigSpec says which URLs a signing config lists. Empty URLs are
// left out (an empty TSA list means no timestamps are requested).
type SigningConfigSpec struct {
	FulcioURL    string
	OIDCURL      string
	RekorURL     string
	RekorVersion int // 1 or 2
	TSAURL       string
}

// WriteSigningConfig writes a signing_config.json (v0.2) for spec.
func WriteSigningConfig(path string, spec SigningConfigSpec, validFrom time.Time) error {
	vf := timeRange{Start: validFrom.UTC().Format(time.RFC3339)}
	svc := func(url string, major int) []Service {
		if url == "" {
			return []Service{}
		}
		return []Service{{URL: url, MajorAPIVersion: major, ValidFor: vf, Operator: Operator}}
	}
	sc := signingConfig{
		MediaType:       SigningConfigMediaType,
		CAURLs:          svc(spec.FulcioURL, 1),
		OIDCURLs:        svc(spec.OIDCURL, 1),
		RekorTlogURLs:   svc(spec.RekorURL, spec.RekorVersion),
		RekorTlogConfig: serviceConfig{Selector: "ANY"},
		TSAURLs:         svc(spec.TSAURL, 1),
		TSAConfig:       serviceConfig{Selector: "ANY"},
	}
	return writeJSONFile(path, sc)
}

// writeTrustedRoot writes trusted_root.json for the services of mode.
func writeTrustedRoot(path string, p *PKI, mode Mode) error {
	vf := timeRange{Start: p.NotBefore.Format(time.RFC3339)}
	b64 := base64.StdEncoding.EncodeToString
	chain := func(certs ...*x509.Certificate) certChain {
		var c certChain
		for _, cert := range certs {
			c.Certificates = append(c.Certificates, rawCert{RawBytes: b64(cert.Raw)})
		}
		return c
	}
	pkix := func(pub any) (publicKey, logID, error) {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return publicKey{}, logID{}, err
		}
		id, err := LogID(pub)
		if err != nil {
			return publicKey{}, logID{}, err
		}
		return publicKey{RawBytes: b64(der), KeyDetails: "PKIX_ECDSA_P256_SHA_256", ValidFor: vf}, logID{KeyID: b64(id)}, nil
	}

	r2der, err := x509.MarshalPKIXPublicKey(p.RekorV2Pub)
	if err != nil {
		return err
	}
	tr := trustedRoot{
		MediaType: TrustedRootMediaType,
		Tlogs: []tlogInstance{{
			BaseURL:       httpURL(PortRekorV2),
			HashAlgorithm: "SHA2_256",
			PublicKey:     publicKey{RawBytes: b64(r2der), KeyDetails: "PKIX_ED25519", ValidFor: vf},
			// The checkpoint origin is the host of baseUrl (rekor-tiles --hostname).
			LogID:    logID{KeyID: b64(NoteLogID(loopback, p.RekorV2Pub))},
			Operator: Operator,
		}},
		CertificateAuthorities: []certificateAuthority{{
			Subject:   distinguishedName{Organization: "signet-local", CommonName: p.FulcioCert.Subject.CommonName},
			URI:       httpURL(PortFulcio),
			CertChain: chain(p.FulcioCert),
			ValidFor:  vf,
			Operator:  Operator,
		}},
		TimestampAuthorities: []certificateAuthority{{
			Subject:   distinguishedName{Organization: "signet-local", CommonName: p.TSACerts[0].Subject.CommonName},
			URI:       httpURL(PortTSA) + "/api/v1/timestamp",
			CertChain: chain(p.TSACerts...),
			ValidFor:  vf,
			Operator:  Operator,
		}},
	}
	if mode == Full {
		pk, id, err := pkix(p.RekorV1Pub)
		if err != nil {
			return err
		}
		tr.Tlogs = append(tr.Tlogs, tlogInstance{BaseURL: httpURL(PortRekorV1), HashAlgorithm: "SHA2_256", PublicKey: pk, LogID: id, Operator: Operator})
		pk, id, err = pkix(p.CTLogPub)
		if err != nil {
			return err
		}
		tr.Ctlogs = []tlogInstance{{BaseURL: httpURL(PortCTLog) + "/test", HashAlgorithm: "SHA2_256", PublicKey: pk, LogID: id, Operator: Operator}}
	}
	return writeJSONFile(path, tr)
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
