package imagesig

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
)

// envelopeJSON is the envelope as cosign prints it: a legacy layer as
// stored, a bundle's envelope re-encoded with cosign's field order.
func envelopeJSON(c Candidate, payloadType string, payload []byte, sigs []*protodsse.Signature) ([]byte, error) {
	if c.Format == FormatLegacy {
		return c.Layer.Data, nil
	}
	type sig struct {
		KeyID string `json:"keyid,omitempty"`
		Sig   []byte `json:"sig"`
	}
	e := struct {
		Payload     []byte `json:"payload"`
		PayloadType string `json:"payloadType"`
		Signatures  []sig  `json:"signatures"`
	}{Payload: payload, PayloadType: payloadType}
	for _, s := range sigs {
		e.Signatures = append(e.Signatures, sig{KeyID: s.GetKeyid(), Sig: s.GetSig()})
	}
	return json.Marshal(e)
}

// Checks are what the header says was verified.
type Checks struct {
	Annotations bool // -a given
	Claims      bool // --check-claims
	Key         bool // --key
}

// WriteHeader writes cosign's summary of the checks to w (stderr).
func WriteHeader(w io.Writer, ref string, c Checks, vs []Verified) {
	fmt.Fprintf(w, "\nVerification for %s --\n", ref)
	fmt.Fprintln(w, "The following checks were performed on each of these signatures:")
	if c.Claims {
		if c.Annotations {
			fmt.Fprintln(w, "  - The specified annotations were verified.")
		}
		fmt.Fprintln(w, "  - The cosign claims were validated")
	}
	tlog := false
	for _, v := range vs {
		tlog = tlog || v.TlogVerified
	}
	if tlog {
		fmt.Fprintln(w, "  - Existence of the claims in the transparency log was verified offline")
	}
	if c.Key {
		fmt.Fprintln(w, "  - The signatures were verified against the specified public key")
	} else {
		fmt.Fprintln(w, "  - The code-signing certificate was verified using trusted certificate authority certificates")
	}
}

// WriteSignatures prints verified signatures as cosign verify does: -o
// json (default) a JSON array after a blank line; -o text one payload per
// line, with certificate lines on stderr for legacy signatures. ref is the
// image as given (docker-reference of bundle signatures).
func WriteSignatures(out, errOut io.Writer, format, ref string, vs []Verified) error {
	if format == "text" {
		for _, v := range vs {
			if v.Format == FormatLegacy {
				writeCertLines(errOut, v)
				fmt.Fprintln(out, string(v.Payload))
				continue
			}
			b, err := json.Marshal(bundleSignaturePayload(ref, v))
			if err != nil {
				return err
			}
			fmt.Fprintln(out, string(b))
		}
		return nil
	}
	items := make([]SimpleSigning, 0, len(vs))
	for _, v := range vs {
		if v.Format == FormatBundle {
			items = append(items, bundleSignaturePayload(ref, v))
			continue
		}
		items = append(items, legacyOutput(v))
	}
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "\n%s\n", b)
	return err
}

// bundleSignaturePayload is what cosign prints for a bundle signature: a
// simple-signing object naming the reference as given, the subject
// digest, the predicate type as type, and the subject annotations.
func bundleSignaturePayload(ref string, v Verified) SimpleSigning {
	opt := map[string]any{}
	for k, val := range v.Annotations {
		opt[k] = val
	}
	digest := ""
	for _, s := range v.Statement.GetSubject() {
		if h, ok := s.GetDigest()["sha256"]; ok {
			digest = "sha256:" + h
			break
		}
	}
	return SimpleSigning{
		Critical: Critical{Identity: Identity{DockerReference: ref}, Image: Image{DockerManifestDigest: digest}, Type: v.Statement.GetPredicateType()},
		Optional: opt,
	}
}

// githubClaims are the legacy GitHub OIDs cosign copies into optional,
// with its names for them.
var githubClaims = []struct{ oid, key, text string }{
	{"1.3.6.1.4.1.57264.1.2", "githubWorkflowTrigger", "GitHub Workflow Trigger"},
	{"1.3.6.1.4.1.57264.1.3", "githubWorkflowSha", "GitHub Workflow SHA"},
	{"1.3.6.1.4.1.57264.1.4", "githubWorkflowName", "GitHub Workflow Name"},
	{"1.3.6.1.4.1.57264.1.5", "githubWorkflowRepository", "GitHub Workflow Repository"},
	{"1.3.6.1.4.1.57264.1.6", "githubWorkflowRef", "GitHub Workflow Ref"},
}

// legacyOutput is the payload with what cosign adds to optional: the
// certificate's subject and issuer, the GitHub claims, the Rekor bundle
// and the RFC 3161 timestamp.
func legacyOutput(v Verified) SimpleSigning {
	ss := *v.Signature
	opt := map[string]any{}
	for k, val := range ss.Optional {
		opt[k] = val
	}
	if v.Certificate != nil {
		sub := ""
		if len(v.Claims.SANs) > 0 {
			sub = v.Claims.SANs[0]
		}
		opt["Subject"] = sub
		if v.Claims.Issuer != "" {
			opt["Issuer"] = v.Claims.Issuer
			opt["1.3.6.1.4.1.57264.1.1"] = v.Claims.Issuer
		}
		for _, g := range githubClaims {
			if val := v.Claims.Extensions[g.oid]; val != "" {
				opt[g.key] = val
				opt[g.oid] = val
			}
		}
	}
	if raw := strings.TrimSpace(v.RekorBundle); raw != "" && json.Valid([]byte(raw)) {
		opt["Bundle"] = json.RawMessage(raw)
	}
	if raw := strings.TrimSpace(v.Timestamp); raw != "" && json.Valid([]byte(raw)) {
		opt["RFC3161Timestamp"] = json.RawMessage(raw)
	}
	if len(opt) > 0 || ss.Optional != nil {
		ss.Optional = opt
	}
	return ss
}

func writeCertLines(w io.Writer, v Verified) {
	if v.Certificate == nil {
		return
	}
	sub := ""
	if len(v.Claims.SANs) > 0 {
		sub = v.Claims.SANs[0]
	}
	fmt.Fprintf(w, "Certificate subject: %s\n", sub)
	if v.Claims.Issuer != "" {
		fmt.Fprintf(w, "Certificate issuer URL: %s\n", v.Claims.Issuer)
	}
	for _, g := range githubClaims {
		if val := v.Claims.Extensions[g.oid]; val != "" {
			fmt.Fprintf(w, "%s: %s\n", g.text, val)
		}
	}
}

// WriteAttestations prints verified attestations as cosign
// verify-attestation does (the same for json and text): the DSSE envelope,
// one per line, with certificate lines on stderr for legacy ones.
func WriteAttestations(out, errOut io.Writer, vs []Verified) error {
	for _, v := range vs {
		if v.Format == FormatLegacy {
			writeCertLines(errOut, v)
		}
		if _, err := fmt.Fprintln(out, string(v.Envelope)); err != nil {
			return err
		}
	}
	return nil
}
