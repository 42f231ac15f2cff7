package signature

import rego.v1

# No critical vulnerability at all.
default allow := false

allow if count(deny) == 0

deny contains msg if {
	some v in input.predicate.scanner.result.vulnerabilities
	some r in v.ratings
	r.severity == "critical"
	msg := sprintf("critical %s in %s", [v.id, v.affects[0].ref])
}
