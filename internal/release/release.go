// Package release makes signet's release files reproducibly: archives whose
// bytes depend only on their inputs and one timestamp (SOURCE_DATE_EPOCH),
// a sha256sum-style checksums file, and the in-toto statements (SLSA v1
// provenance from GitLab CI's predefined variables, the SBOM) that the
// release pipeline signs with attest-blob. hack/release/*.sh drive it
// through cmd/signet-release.
package release

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/signetdev/signet/internal/atomicfile"
)

// WriteArchive writes files (paths on disk) into out, a .tar.gz or a .zip
// chosen by its name, each under its base name, in name order, owned by
// root, with mode 0755 (executables) or 0644 and mtime as their time. No
// other metadata (user names, the clock, gzip's file name) gets in, so two
// runs give the same bytes.
func WriteArchive(out string, files []string, mtime time.Time) error {
	sorted := append([]string(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return filepath.Base(sorted[i]) < filepath.Base(sorted[j]) })
	for i := 1; i < len(sorted); i++ {
		if filepath.Base(sorted[i]) == filepath.Base(sorted[i-1]) {
			return fmt.Errorf("archive %s: two files named %s", out, filepath.Base(sorted[i]))
		}
	}
	tmp, err := atomicfile.Create(out)
	if err != nil {
		return err
	}
	defer tmp.Abort()
	switch {
	case strings.HasSuffix(out, ".tar.gz"):
		err = writeTarGz(tmp, sorted, mtime.UTC())
	case strings.HasSuffix(out, ".zip"):
		err = writeZip(tmp, sorted, mtime.UTC())
	default:
		err = fmt.Errorf("archive %s: name must end in .tar.gz or .zip", out)
	}
	if err != nil {
		return err
	}
	return tmp.Commit()
}

// mode is the archived permission: executable or not, nothing else.
func mode(fi os.FileInfo) int64 {
	if fi.Mode().Perm()&0o100 != 0 {
		return 0o755
	}
	return 0o644
}

func writeTarGz(w io.Writer, files []string, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	gz.ModTime = mtime // the header's time; no name is set
	tw := tar.NewWriter(gz)
	for _, p := range files {
		err := withFile(p, func(f *os.File, fi os.FileInfo) error {
			hdr := &tar.Header{
				Typeflag: tar.TypeReg, Name: filepath.Base(p), Size: fi.Size(), Mode: mode(fi),
				ModTime: mtime, Format: tar.FormatPAX,
			}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			_, err := io.Copy(tw, f)
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, files []string, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, p := range files {
		err := withFile(p, func(f *os.File, fi os.FileInfo) error {
			hdr := &zip.FileHeader{Name: filepath.Base(p), Method: zip.Deflate, Modified: mtime}
			hdr.SetMode(os.FileMode(mode(fi)))
			fw, err := zw.CreateHeader(hdr)
			if err != nil {
				return err
			}
			_, err = io.Copy(fw, f)
			return err
		})
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

func withFile(p string, fn func(*os.File, os.FileInfo) error) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", p)
	}
	if err := fn(f, fi); err != nil {
		return fmt.Errorf("archiving %s: %w", p, err)
	}
	return nil
}

// Digest is a file's sha256, named by its base name.
type Digest struct {
	Name   string
	SHA256 string // hex
}

// Digests hashes files, returned in name order.
func Digests(files []string) ([]Digest, error) {
	out := make([]Digest, 0, len(files))
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("hashing %s: %w", p, err)
		}
		out = append(out, Digest{Name: filepath.Base(p), SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Checksums is the text of checksums.txt, as `sha256sum` writes it (and
// `sha256sum -c` reads it): "<hex>  <name>" lines in name order.
func Checksums(ds []Digest) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s  %s\n", d.SHA256, d.Name)
	}
	return b.String()
}
