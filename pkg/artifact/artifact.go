// Package artifact is the thing that was signed: a file, a stream or a
// digest, hashed once as a stream in constant memory.
package artifact

import (
	"bytes"
	"crypto"
	_ "crypto/sha256" // register hashes used for artifact digests
	_ "crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// Artifact is the thing that was signed: a file (streamed, never held in
// memory), a reader, or just its digest.
type Artifact struct {
	// Name is how errors refer to it (a path, "stdin", or the digest).
	Name string
	// Open returns the content; nil when only Digest is known.
	Open func() (io.ReadCloser, error)
	// Digest is set when the user gave sha256:<hex> instead of content.
	Digest *Digest
}

// Digest is a hash of an artifact.
type Digest struct {
	Algorithm crypto.Hash
	Value     []byte
}

func (d Digest) String() string {
	return HashName(d.Algorithm) + ":" + hex.EncodeToString(d.Value)
}

// FromFile streams the file at path; "-" is standard input.
func FromFile(path string, stdin io.Reader) Artifact {
	if path == "-" {
		return Artifact{Name: "stdin", Open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }}
	}
	return Artifact{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// ParseDigest reads "<alg>:<hex>" (sha256, sha384 or sha512).
func ParseDigest(s string) (Digest, error) {
	alg, hexValue, ok := strings.Cut(s, ":")
	if !ok {
		return Digest{}, fmt.Errorf("digest %q: want <algorithm>:<hex>", s)
	}
	return NewDigest(alg, hexValue)
}

// NewDigest builds a digest from an algorithm name and a hex value.
func NewDigest(alg, hexValue string) (Digest, error) {
	h, err := HashByName(alg)
	if err != nil {
		return Digest{}, err
	}
	v, err := hex.DecodeString(hexValue)
	if err != nil {
		return Digest{}, fmt.Errorf("digest %s:%s: not hex: %w", alg, hexValue, err)
	}
	if len(v) != h.Size() {
		return Digest{}, fmt.Errorf("digest %s:%s: %d bytes, a %s digest has %d", alg, hexValue, len(v), alg, h.Size())
	}
	return Digest{Algorithm: h, Value: v}, nil
}

var hashNames = map[string]crypto.Hash{
	"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512,
	// The protobuf spellings used in bundles and in-toto's keys.
	"SHA2_256": crypto.SHA256, "SHA2_384": crypto.SHA384, "SHA2_512": crypto.SHA512,
}

// HashByName parses sha256, sha384 or sha512 (any case, or the SHA2_256
// spelling of bundles).
func HashByName(name string) (crypto.Hash, error) {
	if h, ok := hashNames[name]; ok {
		return h, nil
	}
	if h, ok := hashNames[strings.ToLower(name)]; ok {
		return h, nil
	}
	return 0, fmt.Errorf("unsupported digest algorithm %q (want sha256, sha384 or sha512)", name)
}

// HashName is the lower-case name of h (sha256, …).
func HashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA256:
		return "sha256"
	case crypto.SHA384:
		return "sha384"
	case crypto.SHA512:
		return "sha512"
	}
	return h.String()
}

// Reading is overlapped with hashing: one goroutine fills buffers while
// the caller hashes the previous one, so a file costs max(read, hash)
// rather than read + hash. Memory stays at pipeBuffers × pipeBufferSize.
const (
	pipeBufferSize = 1 << 20
	pipeBuffers    = 4
	smallArtifact  = 64 << 10
)

// Sum reads the artifact once and returns its digest under each
// requested algorithm. Memory use is a few buffers, whatever the size.
func Sum(a Artifact, algs ...crypto.Hash) (map[crypto.Hash][]byte, error) {
	if a.Open == nil {
		return nil, fmt.Errorf("artifact %s: no content to hash", a.Name)
	}
	rc, err := a.Open()
	if err != nil {
		return nil, fmt.Errorf("opening artifact: %w", err)
	}
	defer rc.Close()

	hashes := make([]hash.Hash, len(algs))
	for i, alg := range algs {
		hashes[i] = alg.New()
	}
	write := func(chunk []byte) {
		for _, h := range hashes {
			h.Write(chunk)
		}
	}
	// A small artifact (an image's signed payload) is hashed from one
	// small buffer: the pipeline's buffers would cost megabytes each time.
	head := make([]byte, smallArtifact)
	n, err := io.ReadFull(rc, head)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		write(head[:n])
		err = nil
	case nil:
		err = pipeline(io.MultiReader(bytes.NewReader(head), rc), write)
	}
	if err != nil {
		return nil, fmt.Errorf("reading artifact %s: %w", a.Name, err)
	}
	out := make(map[crypto.Hash][]byte, len(algs))
	for i, alg := range algs {
		out[alg] = hashes[i].Sum(nil)
	}
	return out, nil
}

// pipeline reads r in a goroutine and hands each filled buffer to consume,
// in order.
func pipeline(r io.Reader, consume func([]byte)) error {
	type chunk struct {
		buf []byte
		n   int
		err error
	}
	free := make(chan []byte, pipeBuffers)
	full := make(chan chunk, pipeBuffers)
	for i := 0; i < pipeBuffers; i++ {
		free <- make([]byte, pipeBufferSize)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(full)
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-done:
				return
			}
			n, err := io.ReadFull(r, buf)
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				full <- chunk{buf: buf, n: n}
				return
			}
			full <- chunk{buf: buf, n: n, err: err}
			if err != nil {
				return
			}
		}
	}()
	for c := range full {
		if c.err != nil {
			return c.err
		}
		consume(c.buf[:c.n])
		free <- c.buf
	}
	return nil
}
