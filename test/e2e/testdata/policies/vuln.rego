package signature

import rego.v1

# No critical vulnerability, except the waived ones. deny is read by
# signet to say why (cosign reads allow only).
waived := {"CVE-2023-5363"}

default allow := false

allow if count(deny) == 0

deny contains msg if {
	some v in input.predicate.scanner.result.vulnerabilities
	some r in v.ratings
	r.severity == "critical"
	not waived[v.id]
	msg := sprintf("critical %s in %s", [v.id, v.affects[0].ref])
}
