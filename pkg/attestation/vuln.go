package attestation

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// VulnPredicateType is cosign's vulnerability scan predicate type.
const VulnPredicateType = "https://cosign.sigstore.dev/attestation/vuln/v1"

// vulnPredicate is cosign's vuln predicate (cosign
// pkg/cosign/attestation: CosignVulnPredicate), field for field, so
// policies written for cosign's schema read signet's the same.
type vulnPredicate struct {
	Invocation struct {
		Parameters any    `json:"parameters"`
		URI        string `json:"uri"`
		EventID    string `json:"event_id"`
		BuilderID  string `json:"builder.id"`
	} `json:"invocation"`
	Scanner struct {
		URI     string `json:"uri"`
		Version string `json:"version"`
		DB      struct {
			URI     string `json:"uri"`
			Version string `json:"version"`
		} `json:"db"`
		Result json.RawMessage `json:"result"`
	} `json:"scanner"`
	Metadata struct {
		ScanStartedOn  time.Time `json:"scanStartedOn"`
		ScanFinishedOn time.Time `json:"scanFinishedOn"`
	} `json:"metadata"`
}

// VulnPredicate makes the predicate of `attest --type vuln`. A file that
// is already cosign's vuln predicate is kept as given (cosign would
// re-encode it and drop fields it does not know). A scanner report
// (CycloneDX, SARIF, trivy or grype JSON) is wrapped: the report verbatim
// in scanner.result, the scanner's name, version, database and scan times
// taken from the report where it says them. cosign instead decodes the
// report as its predicate and signs an empty shell; anything else is an
// error, never a predicate without the user's data.
func VulnPredicate(data []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("predicate for type vuln is not a JSON object: %w", err)
	}
	if _, ok := obj["scanner"]; ok {
		var p vulnPredicate
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("predicate for type vuln looks like cosign's vuln predicate (it has scanner) but does not fit it: %w", err)
		}
		return data, nil
	}
	var p vulnPredicate
	p.Scanner.Result = data
	var err error
	switch {
	case has(obj, "bomFormat"):
		err = fromCycloneDX(data, &p)
	case has(obj, "runs") && (has(obj, "$schema") || has(obj, "version")):
		err = fromSARIF(data, &p)
	case has(obj, "matches") && has(obj, "descriptor"):
		err = fromGrype(data, &p)
	case has(obj, "SchemaVersion") && has(obj, "Results"):
		err = fromTrivy(data, &p)
	default:
		return nil, fmt.Errorf("predicate for type vuln is neither cosign's vuln predicate (invocation, scanner, metadata) nor a CycloneDX (bomFormat), SARIF (runs), grype (matches, descriptor) or trivy (SchemaVersion, Results) report; its fields: %s", strings.Join(keys(obj), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("predicate for type vuln: %w", err)
	}
	return json.Marshal(p)
}

func fromCycloneDX(data []byte, p *vulnPredicate) error {
	var r struct {
		BomFormat string `json:"bomFormat"`
		Metadata  struct {
			Timestamp string          `json:"timestamp"`
			Tools     json.RawMessage `json:"tools"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("CycloneDX report: %w", err)
	}
	if r.BomFormat != "CycloneDX" {
		return fmt.Errorf("bomFormat is %q, want CycloneDX", r.BomFormat)
	}
	// CycloneDX 1.5+ lists tools as {components: [...]}, older versions
	// as an array of {vendor, name, version}.
	type tool struct{ Name, Version, Vendor, Group string }
	var tools []tool
	var modern struct {
		Components []tool `json:"components"`
	}
	if json.Unmarshal(r.Metadata.Tools, &modern) == nil && len(modern.Components) > 0 {
		tools = modern.Components
	} else {
		_ = json.Unmarshal(r.Metadata.Tools, &tools)
	}
	if len(tools) > 0 {
		t := tools[0]
		p.Scanner.URI, p.Scanner.Version = scannerURI(t.Name, t.Version), t.Version
	}
	return setTimes(p, r.Metadata.Timestamp, r.Metadata.Timestamp, "metadata.timestamp")
}

func fromSARIF(data []byte, p *vulnPredicate) error {
	var r struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name           string `json:"name"`
					Version        string `json:"version"`
					SemanticVer    string `json:"semanticVersion"`
					InformationURI string `json:"informationUri"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				StartTimeUTC string `json:"startTimeUtc"`
				EndTimeUTC   string `json:"endTimeUtc"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("SARIF report: %w", err)
	}
	if len(r.Runs) == 0 {
		return errors.New("SARIF report has no runs")
	}
	d := r.Runs[0].Tool.Driver
	version := d.Version
	if version == "" {
		version = d.SemanticVer
	}
	p.Scanner.URI, p.Scanner.Version = scannerURI(d.Name, version), version
	if p.Scanner.URI == "" {
		p.Scanner.URI = d.InformationURI
	}
	if inv := r.Runs[0].Invocations; len(inv) > 0 {
		return setTimes(p, inv[0].StartTimeUTC, inv[0].EndTimeUTC, "runs[0].invocations[0]")
	}
	return nil
}

func fromGrype(data []byte, p *vulnPredicate) error {
	var r struct {
		Descriptor struct {
			Name      string `json:"name"`
			Version   string `json:"version"`
			Timestamp string `json:"timestamp"`
			DB        struct {
				Status struct {
					SchemaVersion string `json:"schemaVersion"`
					From          string `json:"from"`
					Built         string `json:"built"`
				} `json:"status"`
				// grype < 0.80 put them here.
				SchemaVersion json.Number `json:"schemaVersion"`
				Built         string      `json:"built"`
			} `json:"db"`
		} `json:"descriptor"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("grype report: %w", err)
	}
	d := r.Descriptor
	p.Scanner.URI, p.Scanner.Version = scannerURI(d.Name, d.Version), d.Version
	p.Scanner.DB.URI = d.DB.Status.From
	p.Scanner.DB.Version = firstOf(d.DB.Status.Built, d.DB.Built, d.DB.Status.SchemaVersion, d.DB.SchemaVersion.String())
	return setTimes(p, d.Timestamp, d.Timestamp, "descriptor.timestamp")
}

func fromTrivy(data []byte, p *vulnPredicate) error {
	var r struct {
		CreatedAt string `json:"CreatedAt"`
		Trivy     struct {
			Version string `json:"Version"`
		} `json:"Trivy"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("trivy report: %w", err)
	}
	p.Scanner.URI, p.Scanner.Version = scannerURI("trivy", r.Trivy.Version), r.Trivy.Version
	return setTimes(p, r.CreatedAt, r.CreatedAt, "CreatedAt")
}

// scannerURI names a scanner as trivy's own cosign-vuln output does
// (pkg:github/aquasecurity/trivy@VERSION) for the scanners that have a
// home; others by name.
func scannerURI(name, version string) string {
	home := map[string]string{"trivy": "aquasecurity/trivy", "grype": "anchore/grype"}[strings.ToLower(name)]
	switch {
	case home != "" && version != "":
		return "pkg:github/" + home + "@" + version
	case home != "":
		return "pkg:github/" + home
	}
	return name
}

// setTimes parses the report's scan times (RFC 3339); absent ones stay
// zero, as in cosign's predicate.
func setTimes(p *vulnPredicate, start, end, field string) error {
	for _, t := range []struct {
		s   string
		dst *time.Time
	}{{start, &p.Metadata.ScanStartedOn}, {end, &p.Metadata.ScanFinishedOn}} {
		if t.s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.s)
		if err != nil {
			return fmt.Errorf("%s %q is not an RFC 3339 time", field, t.s)
		}
		*t.dst = v.UTC()
	}
	return nil
}

func has(obj map[string]json.RawMessage, k string) bool { _, ok := obj[k]; return ok }

func keys(obj map[string]json.RawMessage) []string {
	out := make([]string, 0, len(obj))
	for k := range obj {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], "…")
	}
	return out
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
