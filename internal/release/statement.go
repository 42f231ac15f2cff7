package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Predicate types of the statements the release attaches.
const (
	StatementType     = "https://in-toto.io/Statement/v1"
	SLSAProvenanceV1  = "https://slsa.dev/provenance/v1"
	CycloneDXBOM      = "https://cyclonedx.org/bom"
	GitLabBuildType   = "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/PROVENANCE.md"
	maxPredicateBytes = 64 << 20
)

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type statement struct {
	Type          string          `json:"_type"`
	Subject       []subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Statement is an in-toto v1 statement about every file of ds, so one
// signed statement covers all the release archives and verify-blob-
// attestation accepts any one of them.
func Statement(predicateType string, predicate []byte, ds []Digest) ([]byte, error) {
	if len(ds) == 0 {
		return nil, errors.New("statement: no subjects")
	}
	if len(predicate) > maxPredicateBytes {
		return nil, fmt.Errorf("statement: predicate is larger than %d bytes", maxPredicateBytes)
	}
	if !json.Valid(predicate) {
		return nil, errors.New("statement: predicate is not JSON")
	}
	st := statement{Type: StatementType, PredicateType: predicateType, Predicate: predicate}
	for _, d := range ds {
		st.Subject = append(st.Subject, subject{Name: d.Name, Digest: map[string]string{"sha256": d.SHA256}})
	}
	return json.MarshalIndent(st, "", "  ")
}

// GitLabProvenance is a SLSA v1 provenance predicate for a build run by
// GitLab CI, from the job's predefined variables (getenv). The external
// parameters are what a verifier should compare with its expectations
// (repository, ref, commit, config file); the internal ones record the
// pipeline and runner. It fails when the variables every GitLab job has are
// missing: a provenance without its source is worthless.
func GitLabProvenance(getenv func(string) string, finished time.Time) ([]byte, error) {
	var missing []string
	need := func(k string) string {
		v := getenv(k)
		if v == "" {
			missing = append(missing, k)
		}
		return v
	}
	project, sha, server := need("CI_PROJECT_URL"), need("CI_COMMIT_SHA"), need("CI_SERVER_URL")
	jobURL := need("CI_JOB_URL")
	need("CI_PIPELINE_ID")
	if len(missing) > 0 {
		return nil, fmt.Errorf("provenance: GitLab CI variables not set: %s", strings.Join(missing, ", "))
	}
	ref := gitRef(getenv)
	config := getenv("CI_CONFIG_PATH")
	if config == "" {
		config = ".gitlab-ci.yml"
	}
	type m = map[string]any
	optional := func(keys ...string) m {
		out := m{}
		for _, k := range keys {
			if v := getenv(k); v != "" {
				out[k] = v
			}
		}
		return out
	}
	builderID := server + "/" + strings.TrimPrefix(strings.TrimPrefix(project, server), "/") + "/-/runners/" + orUnknown(getenv("CI_RUNNER_ID"))
	metadata := m{"invocationId": jobURL, "finishedOn": finished.UTC().Format(time.RFC3339)}
	if s := getenv("CI_JOB_STARTED_AT"); s != "" {
		metadata["startedOn"] = s
	}
	pred := m{
		"buildDefinition": m{
			"buildType": GitLabBuildType,
			"externalParameters": m{
				"source":     m{"uri": "git+" + project + "@" + ref, "digest": m{"gitCommit": sha}},
				"entryPoint": config,
				"ref":        ref,
			},
			"internalParameters": optional("CI_PIPELINE_ID", "CI_PIPELINE_URL", "CI_PIPELINE_SOURCE", "CI_JOB_ID",
				"CI_JOB_NAME", "CI_PROJECT_PATH", "CI_PROJECT_ID", "CI_RUNNER_DESCRIPTION", "CI_RUNNER_TAGS",
				"CI_RUNNER_VERSION", "CI_RUNNER_EXECUTABLE_ARCH", "CI_SERVER_VERSION", "CI_COMMIT_TAG"),
			"resolvedDependencies": []m{{"uri": "git+" + project + "@" + ref, "digest": m{"gitCommit": sha}}},
		},
		"runDetails": m{
			"builder":  m{"id": builderID, "version": optional("CI_RUNNER_VERSION")},
			"metadata": metadata,
		},
	}
	return json.MarshalIndent(pred, "", "  ")
}

// gitRef is the full ref the pipeline ran for, as Fulcio puts it in the
// certificate (extension .14): refs/tags/X for a tag pipeline, else
// refs/heads/<branch>.
func gitRef(getenv func(string) string) string {
	if t := getenv("CI_COMMIT_TAG"); t != "" {
		return "refs/tags/" + t
	}
	return "refs/heads/" + getenv("CI_COMMIT_REF_NAME")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
