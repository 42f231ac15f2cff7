// Command signet-release makes the files of a signet release for
// hack/release/*.sh: reproducible archives, checksums.txt, and the in-toto
// statements the pipeline attests (SLSA v1 provenance from GitLab CI's
// variables, the CycloneDX SBOM).
//
//	signet-release archive -o OUT.tar.gz|OUT.zip [-mtime EPOCH] FILE...
//	signet-release checksums -o checksums.txt FILE...
//	signet-release statement -predicate-type URI -predicate FILE -o OUT FILE...
//	signet-release provenance -o OUT FILE...
//	signet-release sbom-merge -o OUT SBOM...
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/signetdev/signet/internal/atomicfile"
	"github.com/signetdev/signet/internal/release"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "signet-release:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, now func() time.Time) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: signet-release archive|checksums|statement|provenance|sbom-merge [flags] FILE...")
	}
	verb := args[0]
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "output file")
	mtime := fs.String("mtime", getenv("SOURCE_DATE_EPOCH"), "archive entries' time, in seconds since 1970 (default $SOURCE_DATE_EPOCH)")
	predType := fs.String("predicate-type", "", "statement: the predicate type URI")
	predFile := fs.String("predicate", "", "statement: the predicate JSON file")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	files := fs.Args()
	if *out == "" || len(files) == 0 {
		return fmt.Errorf("%s: -o and at least one FILE are required", verb)
	}
	switch verb {
	case "archive":
		secs, err := strconv.ParseInt(*mtime, 10, 64)
		if err != nil {
			return fmt.Errorf("archive: -mtime (or SOURCE_DATE_EPOCH) %q: want seconds since 1970", *mtime)
		}
		return release.WriteArchive(*out, files, time.Unix(secs, 0))
	case "checksums":
		ds, err := release.Digests(files)
		if err != nil {
			return err
		}
		return atomicfile.WriteFile(*out, []byte(release.Checksums(ds)), 0o644)
	case "sbom-merge":
		var boms [][]byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("sbom-merge: %w", err)
			}
			boms = append(boms, b)
		}
		merged, err := release.MergeBOMs(boms)
		if err != nil {
			return err
		}
		return atomicfile.WriteFile(*out, merged, 0o644)
	case "statement", "provenance":
		ds, err := release.Digests(files)
		if err != nil {
			return err
		}
		var pred []byte
		typ := *predType
		if verb == "provenance" {
			typ = release.SLSAProvenanceV1
			pred, err = release.GitLabProvenance(getenv, now())
		} else if typ == "" || *predFile == "" {
			return fmt.Errorf("statement: -predicate-type and -predicate are required")
		} else {
			pred, err = os.ReadFile(*predFile)
		}
		if err != nil {
			return err
		}
		st, err := release.Statement(typ, pred, ds)
		if err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
		return atomicfile.WriteFile(*out, st, 0o644)
	}
	return fmt.Errorf("unknown verb %q: archive, checksums, statement or provenance", verb)
}
