package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of a WebAssembly module image (cosign upload wasm).
const (
	WasmLayerMediaType  types.MediaType = "application/vnd.wasm.content.layer.v1+wasm"
	WasmConfigMediaType types.MediaType = "application/vnd.wasm.config.v1+json"
)

// UploadFile is one file of cosign's `upload blob`: its content, and the
// platform it is for (needed when there are several).
type UploadFile struct {
	Name     string
	Data     []byte
	Platform *v1.Platform
}

// DetectMediaType is the media type `upload blob` gives a file without
// --ct: the sniffed content type, parameters dropped, as cosign does.
func DetectMediaType(b []byte) types.MediaType {
	mt, _, _ := strings.Cut(http.DetectContentType(b), ";")
	return types.MediaType(mt)
}

// UploadBlobs pushes files to ref as cosign's `upload blob` does: one file
// becomes an image with the file as its only layer; several (each with
// its platform) an index of such images. mediaType "" means detect per
// file. It returns the digest of what was pushed.
func (c *Client) UploadBlobs(ctx context.Context, ref name.Reference, files []UploadFile, mediaType types.MediaType, annotations map[string]string) (name.Digest, error) {
	if len(files) == 0 {
		return name.Digest{}, errors.New("no file to upload")
	}
	image := func(f UploadFile) (v1.Image, error) {
		mt := mediaType
		if mt == "" {
			mt = DetectMediaType(f.Data)
		}
		img, err := mutate.AppendLayers(empty.Image, static.NewLayer(f.Data, mt))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if len(annotations) > 0 {
			img = mutate.Annotations(img, annotations).(v1.Image)
		}
		return img, nil
	}
	opts := c.RemoteOptions(ctx)
	if len(files) == 1 {
		img, err := image(files[0])
		if err != nil {
			return name.Digest{}, err
		}
		if err := remote.Write(ref, img, opts...); err != nil {
			return name.Digest{}, fmt.Errorf("pushing %s: %w", ref, err)
		}
		return digestOf(ref, img.Digest)
	}
	var idx v1.ImageIndex = empty.Index
	for _, f := range files {
		if f.Platform == nil {
			return name.Digest{}, fmt.Errorf("%s: several files need a platform each (FILE:os/arch)", f.Name)
		}
		img, err := image(f)
		if err != nil {
			return name.Digest{}, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: f.Platform}})
	}
	if len(annotations) > 0 {
		idx = mutate.Annotations(idx, annotations).(v1.ImageIndex)
	}
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	return digestOf(ref, idx.Digest)
}

// UploadWasm pushes a WebAssembly module as an image with the wasm config
// and layer media types.
func (c *Client) UploadWasm(ctx context.Context, ref name.Reference, module []byte) (name.Digest, error) {
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(module, WasmLayerMediaType))
	if err != nil {
		return name.Digest{}, err
	}
	img = mutate.ConfigMediaType(img, WasmConfigMediaType)
	if err := remote.Write(ref, img, c.RemoteOptions(ctx)...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	return digestOf(ref, img.Digest)
}

func digestOf(ref name.Reference, digest func() (v1.Hash, error)) (name.Digest, error) {
	h, err := digest()
	if err != nil {
		return name.Digest{}, err
	}
	return ref.Context().Digest(h.String()), nil
}
