package verifier

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
)

// ErrVerification is wrapped by every "the signature is not good" error,
// as opposed to bad input or I/O.
var ErrVerification = errors.New("verification failed")

// steps maps sigstore-go's error prefixes to the check a user recognises.
var steps = []struct{ prefix, check string }{
	{"failed to verify log inclusion: ", "transparency log"},
	{"failed to verify timestamps: ", "signing time"},
	{"failed to verify leaf certificate: ", "certificate chain"},
	{"failed to verify signed certificate timestamp: ", "certificate transparency (SCT)"},
	{"failed to verify signature: ", "signature"},
	{"failed to get signature verifier: ", "signature"},
	{"failed to summarize certificate: ", "certificate"},
	{"failed to fetch verification content: ", "bundle"},
	{"failed to fetch signature content: ", "bundle"},
	{"failed to fetch envelope statement: ", "attestation statement"},
}

// explain turns a sigstore-go verification error into one line naming the
// check that failed, adding what the bundle and trust material show.
func explain(err error, b *bundle.Bundle, tm root.TrustedMaterial) error {
	msg := err.Error()
	check := "verification"
	for _, s := range steps {
		if rest, ok := strings.CutPrefix(msg, s.prefix); ok {
			check, msg = s.check, rest
			break
		}
	}
	switch check {
	case "transparency log":
		if hint := explainTlog(b, tm); hint != "" {
			msg = hint
		}
	case "signing time":
		n := len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps())
		switch {
		case strings.Contains(msg, "integrated timestamps: 0 < 1"):
			msg = "no verified signing time: no log entry carries a signed integrated time (a Rekor v2 entry needs an RFC 3161 timestamp in the bundle)"
		case strings.Contains(msg, "signed timestamps: 0 < 1") && n == 0:
			msg = "--use-signed-timestamps requires an RFC 3161 timestamp, and the bundle carries none"
		case strings.Contains(msg, "signed timestamps: 0 < 1") && len(tm.TimestampingAuthorities()) == 0:
			msg = fmt.Sprintf("the bundle carries %d RFC 3161 timestamp(s) and the trusted root lists no timestamp authority to verify them", n)
		case strings.Contains(msg, "signed timestamps: 0 < 1"):
			msg = fmt.Sprintf("none of the bundle's %d RFC 3161 timestamp(s) verifies with a timestamp authority of the trusted root: %s", n, msg)
		}
	case "certificate transparency (SCT)":
		msg += " (--insecure-ignore-sct skips this check; unsafe)"
	}
	return fmt.Errorf("%w: %s check failed: %s", ErrVerification, check, oneLine(rephrase(msg)))
}

// rephrasings make sigstore-go's terse messages say what differs.
var rephrasings = []struct{ from, to string }{
	{"transparency log signature does not match", "the bundle's signature is not the one recorded in the transparency log entry"},
	{"transparency log certificate does not match", "the bundle's certificate or key is not the one recorded in the transparency log entry"},
	{"calculated root", "the inclusion proof does not lead to the checkpoint's root hash: calculated root"},
}

func rephrase(msg string) string {
	for _, r := range rephrasings {
		if i := strings.Index(msg, r.from); i >= 0 {
			return msg[:i] + r.to + msg[i+len(r.from):]
		}
	}
	return msg
}

// byteList matches Go's %v rendering of a []byte ("[12 34 …]").
var byteList = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\[(\d{1,3}(?: \d{1,3}){7,})\]`)
})

// oneLine renders a message on one line, with byte slices as hex.
func oneLine(msg string) string {
	msg = byteList().ReplaceAllStringFunc(msg, func(m string) string {
		var b []byte
		for _, f := range strings.Fields(strings.Trim(m, "[]")) {
			n, err := strconv.Atoi(f)
			if err != nil || n > 255 {
				return m
			}
			b = append(b, byte(n))
		}
		return hex.EncodeToString(b)
	})
	return strings.Join(strings.Fields(msg), " ")
}

// explainTlog finds why no log entry verified: sigstore-go skips entries
// it cannot verify and then only reports a count.
func explainTlog(b *bundle.Bundle, tm root.TrustedMaterial) string {
	entries, err := b.TlogEntries()
	if err != nil {
		return ""
	}
	if len(entries) == 0 {
		return "the bundle has no transparency log entry (--insecure-ignore-tlog skips this check; unsafe)"
	}
	logs := tm.RekorLogs()
	var reasons []string
	for _, e := range entries {
		id := hex.EncodeToString([]byte(e.LogKeyID()))
		if _, ok := logs[id]; !ok {
			reasons = append(reasons, fmt.Sprintf("entry %d was logged by log %s, which the trusted root does not list", e.LogIndex(), id))
			continue
		}
		if e.HasInclusionPromise() {
			if err := tlog.VerifySET(e, logs); err != nil {
				reasons = append(reasons, fmt.Sprintf("entry %d: signed entry timestamp (SET) does not verify with log %s: %v", e.LogIndex(), id, err))
			}
		}
	}
	return strings.Join(reasons, "; ")
}
