package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeInputs(t *testing.T, dir string, touch time.Time) []string {
	t.Helper()
	bin := filepath.Join(dir, "signet")
	readme := filepath.Join(dir, "LICENSE")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho signet\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, []byte("license text\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bin, readme} {
		if err := os.Chtimes(p, touch, touch); err != nil {
			t.Fatal(err)
		}
	}
	return []string{bin, readme}
}

// Two builds of one commit on two days, with other permissions: the same
// archive bytes, for tar.gz and zip.
func TestArchiveReproducible(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	for _, name := range []string{"a.tar.gz", "a.zip"} {
		d1, d2 := t.TempDir(), t.TempDir()
		f1 := writeInputs(t, d1, time.Now())
		f2 := writeInputs(t, d2, time.Now().Add(-48*time.Hour))
		os.Chmod(f2[0], 0o755)
		if err := WriteArchive(filepath.Join(d1, name), f1, epoch); err != nil {
			t.Fatal(err)
		}
		// the other order on the command line changes nothing
		if err := WriteArchive(filepath.Join(d2, name), []string{f2[1], f2[0]}, epoch); err != nil {
			t.Fatal(err)
		}
		b1, _ := os.ReadFile(filepath.Join(d1, name))
		b2, _ := os.ReadFile(filepath.Join(d2, name))
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s: two runs differ", name)
		}
		if m, _ := filepath.Glob(filepath.Join(d1, ".*tmp*")); len(m) > 0 {
			t.Errorf("temporary files left: %v", m)
		}
	}
}

func TestArchiveContents(t *testing.T) {
	dir := t.TempDir()
	files := writeInputs(t, dir, time.Now())
	epoch := time.Unix(1700000000, 0).UTC()

	tgz := filepath.Join(dir, "x.tar.gz")
	if err := WriteArchive(tgz, files, epoch); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(tgz)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.Equal(epoch) {
		t.Errorf("gzip header: name %q time %v", gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name)
		if !h.ModTime.Equal(epoch) || h.Uid != 0 || h.Uname != "" {
			t.Errorf("%s: time %v uid %d uname %q", h.Name, h.ModTime, h.Uid, h.Uname)
		}
		want := int64(0o644)
		if h.Name == "signet" {
			want = 0o755
		}
		if h.Mode != want {
			t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, want)
		}
	}
	if strings.Join(got, ",") != "LICENSE,signet" {
		t.Errorf("tar entries %v", got)
	}

	zp := filepath.Join(dir, "x.zip")
	if err := WriteArchive(zp, files, epoch); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zp)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 2 || zr.File[1].Name != "signet" || zr.File[1].Mode().Perm() != 0o755 {
		t.Errorf("zip entries: %v", zr.File)
	}

	if err := WriteArchive(filepath.Join(dir, "x.rar"), files, epoch); err == nil || !strings.Contains(err.Error(), ".tar.gz or .zip") {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.rar")); err == nil {
		t.Error("a failed archive was left behind")
	}
	if err := WriteArchive(filepath.Join(dir, "y.tar.gz"), []string{files[0], filepath.Join(dir, "missing")}, epoch); err == nil {
		t.Error("a missing input was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "y.tar.gz")); err == nil {
		t.Error("a partial archive was left behind")
	}
}

func TestChecksumsAndStatement(t *testing.T) {
	dir := t.TempDir()
	files := writeInputs(t, dir, time.Now())
	ds, err := Digests(files)
	if err != nil {
		t.Fatal(err)
	}
	sums := Checksums(ds)
	// sha256sum's own format: "<64 hex>  <name>", name order
	lines := strings.Split(strings.TrimSuffix(sums, "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "  LICENSE") || len(strings.Fields(lines[0])[0]) != 64 {
		t.Errorf("checksums:\n%s", sums)
	}
	st, err := Statement(CycloneDXBOM, []byte(`{"bomFormat":"CycloneDX"}`), ds)
	if err != nil {
		t.Fatal(err)
	}
	var got statement
	if err := json.Unmarshal(st, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != StatementType || got.PredicateType != CycloneDXBOM || len(got.Subject) != 2 ||
		got.Subject[1].Name != "signet" || got.Subject[1].Digest["sha256"] != ds[1].SHA256 {
		t.Errorf("statement: %s", st)
	}
	if _, err := Statement(CycloneDXBOM, []byte(`{not json`), ds); err == nil {
		t.Error("a predicate that is not JSON was accepted")
	}
	if _, err := Statement(CycloneDXBOM, []byte(`{}`), nil); err == nil {
		t.Error("a statement without subjects was accepted")
	}
}

func TestGitLabProvenance(t *testing.T) {
	vars := map[string]string{
		"CI_PROJECT_URL": "https://gitlab.example.com/acme/signet", "CI_SERVER_URL": "https://gitlab.example.com",
		"CI_COMMIT_SHA": "0123abc", "CI_COMMIT_REF_NAME": "main", "CI_JOB_URL": "https://gitlab.example.com/acme/signet/-/jobs/7",
		"CI_PIPELINE_ID": "42", "CI_RUNNER_ID": "3", "CI_JOB_STARTED_AT": "2026-01-02T03:04:05Z",
	}
	finished := time.Date(2026, 1, 2, 3, 9, 0, 0, time.UTC)
	raw, err := GitLabProvenance(func(k string) string { return vars[k] }, finished)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		BuildDefinition struct {
			BuildType          string
			ExternalParameters struct {
				Source     struct{ URI string }
				Ref        string
				EntryPoint string
			}
			InternalParameters map[string]string
		}
		RunDetails struct {
			Builder  struct{ ID string }
			Metadata struct{ InvocationID, StartedOn, FinishedOn string }
		}
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	bd, rd := p.BuildDefinition, p.RunDetails
	if bd.ExternalParameters.Ref != "refs/heads/main" || bd.ExternalParameters.Source.URI != "git+https://gitlab.example.com/acme/signet@refs/heads/main" ||
		bd.ExternalParameters.EntryPoint != ".gitlab-ci.yml" || bd.InternalParameters["CI_PIPELINE_ID"] != "42" ||
		rd.Builder.ID != "https://gitlab.example.com/acme/signet/-/runners/3" || rd.Metadata.InvocationID != vars["CI_JOB_URL"] ||
		rd.Metadata.StartedOn != "2026-01-02T03:04:05Z" || rd.Metadata.FinishedOn != "2026-01-02T03:09:00Z" {
		t.Errorf("provenance:\n%s", raw)
	}

	vars["CI_COMMIT_TAG"] = "v1.2.3"
	raw, _ = GitLabProvenance(func(k string) string { return vars[k] }, finished)
	if !strings.Contains(string(raw), `"ref": "refs/tags/v1.2.3"`) {
		t.Errorf("tag pipeline ref:\n%s", raw)
	}

	delete(vars, "CI_COMMIT_SHA")
	delete(vars, "CI_JOB_URL")
	if _, err := GitLabProvenance(func(k string) string { return vars[k] }, finished); err == nil ||
		!strings.Contains(err.Error(), "CI_COMMIT_SHA, CI_JOB_URL") {
		t.Errorf("missing variables: %v", err)
	}
}
