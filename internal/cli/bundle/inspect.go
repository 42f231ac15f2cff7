package bundle

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/signetdev/signet/pkg/verifier"
)

// node is one line of the inspection tree: "- Label: value".
type node struct {
	label, value string
	children     []*node
}

func (n *node) add(label, value string) *node {
	c := &node{label: label, value: value}
	n.children = append(n.children, c)
	return c
}

func (n *node) warn(msg string) { n.add("[!] WARNING", msg) }

func (n *node) print(w io.Writer, depth int) {
	for _, c := range n.children {
		pad := strings.Repeat("  ", depth)
		if c.value != "" {
			fmt.Fprintf(w, "%s- %s: %s\n", pad, c.label, c.value)
		} else {
			fmt.Fprintf(w, "%s- %s:\n", pad, c.label)
		}
		c.print(w, depth+1)
	}
}

var bundleVersions = map[string]int{
	"application/vnd.dev.sigstore.bundle+json;version=0.1": 1,
	"application/vnd.dev.sigstore.bundle+json;version=0.2": 2,
	"application/vnd.dev.sigstore.bundle+json;version=0.3": 3,
	verifier.MediaTypeV03: 3,
}

// Inspect writes a readable outline of a bundle. Nothing is verified:
// the outline says what the bundle claims, and what is missing.
func Inspect(w io.Writer, data []byte) error {
	var b protobundle.Bundle
	if err := protojson.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("not a Sigstore bundle: %s", strings.Join(strings.Fields(err.Error()), " "))
	}
	root := &node{}
	root.add("Bundle Media Type", b.GetMediaType())
	version, known := bundleVersions[b.GetMediaType()]
	switch {
	case b.GetMediaType() == "":
		root.warn("Missing Bundle Media Type")
	case !known:
		root.warn("Unrecognized Media Type")
	}
	if vm := b.GetVerificationMaterial(); vm != nil {
		material(root.add("Verification Material", ""), vm, version)
	} else {
		root.warn("Missing Verification Material")
	}
	switch c := b.GetContent().(type) {
	case *protobundle.Bundle_MessageSignature:
		n := root.add("Content", "Message Signature")
		if d := c.MessageSignature.GetMessageDigest(); d != nil {
			n.add("Digest Algorithm", d.GetAlgorithm().String())
			n.add("Digest", hex.EncodeToString(d.GetDigest()))
		}
		n.add("Signature", fmt.Sprintf("Present (%d bytes)", len(c.MessageSignature.GetSignature())))
	case *protobundle.Bundle_DsseEnvelope:
		n := root.add("Content", "DSSE Envelope")
		n.add("Payload Type", c.DsseEnvelope.GetPayloadType())
		var st struct {
			PredicateType string `json:"predicateType"`
			Subject       []struct {
				Name   string            `json:"name"`
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
		}
		if json.Unmarshal(c.DsseEnvelope.GetPayload(), &st) == nil && st.PredicateType != "" {
			n.add("Predicate Type", st.PredicateType)
			for i, s := range st.Subject {
				sn := n.add(fmt.Sprintf("Subject [%d]", i), s.Name)
				for alg, v := range s.Digest {
					sn.add(alg, v)
				}
			}
		}
		n.add("Signatures", fmt.Sprintf("%d", len(c.DsseEnvelope.GetSignatures())))
	default:
		root.warn("Missing Content")
	}
	root.print(w, 0)
	return nil
}

func material(n *node, vm *protobundle.VerificationMaterial, version int) {
	switch c := vm.GetContent().(type) {
	case *protobundle.VerificationMaterial_Certificate:
		cn := n.add("Content", "X.509 Certificate")
		certificate(cn, c.Certificate.GetRawBytes())
		if version > 0 && version < 3 {
			cn.warn("v0.1/v0.2 bundle should use certificate chain, not single certificate")
		}
	case *protobundle.VerificationMaterial_X509CertificateChain:
		cn := n.add("Content", "X.509 Certificate Chain")
		certs := c.X509CertificateChain.GetCertificates()
		cn.add("Certificates", fmt.Sprintf("%d", len(certs)))
		for i, cert := range certs {
			certificate(cn.add(fmt.Sprintf("Certificate [%d]", i), ""), cert.GetRawBytes())
		}
		if version >= 3 {
			cn.warn("v0.3 bundle should use single certificate, not chain")
		}
	case *protobundle.VerificationMaterial_PublicKey:
		pn := n.add("Content", "Public Key Identifier")
		if h := c.PublicKey.GetHint(); h != "" {
			pn.add("Hint", h)
		} else {
			pn.warn("Public key hint is empty")
		}
	default:
		n.warn("Missing Verification Material Content (must be certificate, chain, or public key)")
	}
	if es := vm.GetTlogEntries(); len(es) > 0 {
		tn := n.add("Transparency Log Entries", fmt.Sprintf("%d", len(es)))
		for i, e := range es {
			entry(tn.add(fmt.Sprintf("Entry [%d]", i), ""), e, version)
		}
	}
	if ts := vm.GetTimestampVerificationData().GetRfc3161Timestamps(); len(ts) > 0 {
		tn := n.add("Timestamp Verification Data", "")
		rn := tn.add("RFC3161 Timestamps", fmt.Sprintf("%d", len(ts)))
		for i, t := range ts {
			one := rn.add(fmt.Sprintf("Timestamp [%d]", i), "")
			parsed, err := verifier.ParseTimestamp(t.GetSignedTimestamp())
			if err != nil {
				one.add("Error", "not an RFC 3161 timestamp token: "+strings.Join(strings.Fields(err.Error()), " "))
				continue
			}
			one.add("Time", parsed.Time.UTC().Format(time.RFC3339))
			one.add("Hash Algorithm", parsed.HashAlgorithm.String())
			if len(parsed.Certificates) > 0 {
				one.add("TSA", parsed.Certificates[0].Subject.String())
			}
		}
	}
}

func certificate(n *node, der []byte) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		n.add("Error", "parsing certificate: "+err.Error())
		return
	}
	if c.Subject.String() != "" {
		n.add("Subject", c.Subject.String())
	}
	n.add("Issuer", c.Issuer.String())
	v := n.add("Validity", "")
	v.add("Not Before", c.NotBefore.UTC().Format(time.RFC3339))
	v.add("Not After", c.NotAfter.UTC().Format(time.RFC3339))
	for _, e := range c.EmailAddresses {
		n.add("Email", e)
	}
	for _, u := range c.URIs {
		n.add("URI", u.String())
	}
	fulcioExtensions(n, c)
}

// fulcioNames are the Fulcio certificate extensions (OID 1.3.6.1.4.1.57264.1.N).
var fulcioNames = []string{1: "OIDC Issuer", 2: "GitHub Workflow Trigger", 3: "GitHub Workflow SHA",
	4: "GitHub Workflow Name", 5: "GitHub Workflow Repository", 6: "GitHub Workflow Ref", 7: "OtherName SAN",
	8: "Issuer (V2)", 9: "Build Signer URI", 10: "Build Signer Digest", 11: "Runner Environment",
	12: "Source Repository URI", 13: "Source Repository Digest", 14: "Source Repository Ref",
	15: "Source Repository Identifier", 16: "Source Repository Owner URI", 17: "Source Repository Owner Identifier",
	18: "Build Config URI", 19: "Build Config Digest", 20: "Build Trigger", 21: "Run Invocation URI",
	22: "Source Repository Visibility At Signing", 23: "Deployment Environment", 24: "Token Subject"}

var fulcioArc = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1}

// fulcioExtensions lists the certificate's Fulcio claims: the v2 ones
// are DER strings, the legacy .1–.6 raw bytes.
func fulcioExtensions(n *node, c *x509.Certificate) {
	var en *node
	for _, e := range c.Extensions {
		if len(e.Id) != len(fulcioArc)+1 || !e.Id[:len(fulcioArc)].Equal(fulcioArc) {
			continue
		}
		k := e.Id[len(fulcioArc)]
		label := "OID " + e.Id.String()
		if k > 0 && k < len(fulcioNames) {
			label = fulcioNames[k]
		}
		val := string(e.Value)
		var str string
		if rest, err := asn1.Unmarshal(e.Value, &str); err == nil && len(rest) == 0 {
			val = str
		}
		if en == nil {
			en = n.add("Fulcio Extensions", "")
		}
		en.add(label, strings.ToValidUTF8(val, "?"))
	}
}

func entry(n *node, e *protorekor.TransparencyLogEntry, version int) {
	n.add("Log Index", fmt.Sprintf("%d", e.GetLogIndex()))
	n.add("Log ID", hex.EncodeToString(e.GetLogId().GetKeyId()))
	n.add("Kind", e.GetKindVersion().GetKind())
	n.add("Version", e.GetKindVersion().GetVersion())
	if e.GetIntegratedTime() == 0 {
		n.add("Integrated Time", "0 (Not set)")
	} else {
		n.add("Integrated Time", time.Unix(e.GetIntegratedTime(), 0).UTC().Format(time.RFC3339))
	}
	if p := e.GetInclusionPromise(); p != nil {
		n.add("Inclusion Promise", "").add("Signed Entry Timestamp", fmt.Sprintf("Present (%d bytes)", len(p.GetSignedEntryTimestamp())))
	}
	if p := e.GetInclusionProof(); p != nil {
		pn := n.add("Inclusion Proof", "")
		pn.add("Log Index", fmt.Sprintf("%d", p.GetLogIndex()))
		pn.add("Tree Size", fmt.Sprintf("%d", p.GetTreeSize()))
		pn.add("Root Hash", hex.EncodeToString(p.GetRootHash()))
		pn.add("Hashes", fmt.Sprintf("%d", len(p.GetHashes())))
	}
	if version == 1 && e.GetInclusionPromise() == nil {
		n.warn("v0.1 bundle tlog entry MUST contain an inclusion promise")
	}
	if version >= 2 && e.GetInclusionProof() == nil {
		n.warn(fmt.Sprintf("v0.%d bundle tlog entry MUST contain an inclusion proof", version))
	}
}
