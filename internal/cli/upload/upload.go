// Package upload is cosign's deprecated `upload blob` and `upload wasm`:
// files pushed to a registry as single-layer images.
package upload

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/pkg/oci"
)

// maxFile bounds one uploaded file: it is held in memory to be pushed.
const maxFile = 1 << 30

// BlobOptions are the inputs of upload blob.
type BlobOptions struct {
	Registry    flags.Registry
	TagPrefix   string
	Files       []string
	ContentType string
	Annotations map[string]string
	Image       string
}

// WasmOptions are the inputs of upload wasm.
type WasmOptions struct {
	Registry  flags.Registry
	TagPrefix string
	File      string
	Image     string
}

// NewCmdUpload builds the deprecated `upload` group.
func NewCmdUpload(f *cli.Factory) *cobra.Command {
	parent := &cobra.Command{
		Use:   "upload",
		Short: "Provides utilities for uploading artifacts to a registry",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	regcmd.NoEnv(parent)
	regcmd.Deprecate(f, parent, "upload "+regcmd.Removal+". Instead, please use `oras blob push` for uploading artifacts to a registry")
	parent.AddCommand(NewCmdBlob(f, nil), NewCmdWasm(f, nil))
	return parent
}

// NewCmdBlob builds `upload blob`.
func NewCmdBlob(f *cli.Factory, runF func(context.Context, *BlobOptions) error) *cobra.Command {
	opts := &BlobOptions{}
	cmd := &cobra.Command{
		Use:   "blob -f FILE[:OS[/ARCH[/VARIANT]]] [-f ...] IMAGE",
		Short: "Upload one or more blobs to the supplied container image address",
		Example: `  # one file
  signet upload blob -f app.tar.gz registry.example.com/acme/app-blob:v1
  # one file per platform: an index
  signet upload blob -f app-linux:linux/amd64 -f app-darwin:darwin/arm64 registry.example.com/acme/app-blob:v1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runBlob(cmd.Context(), f, opts)
		},
	}
	regcmd.NoEnv(cmd)
	regcmd.Deprecate(f, cmd, deprecation)
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringSliceVarP(&opts.Files, "files", "f", nil, "<filepath>:[platform/arch]")
	fs.StringVar(&opts.ContentType, "ct", "", "content type to set")
	fs.StringToStringVarP(&opts.Annotations, "annotation", "a", nil, "annotations to set")
	return cmd
}

// deprecation is cosign's notice for both upload verbs.
const deprecation = "upload " + regcmd.Removal + ". Instead, please use `oras blob push` for uploading artifacts to a registry"

// NewCmdWasm builds `upload wasm`.
func NewCmdWasm(f *cli.Factory, runF func(context.Context, *WasmOptions) error) *cobra.Command {
	opts := &WasmOptions{}
	cmd := &cobra.Command{
		Use:     "wasm -f FILE IMAGE",
		Short:   "Upload a wasm module to the supplied container image reference",
		Example: "  signet upload wasm -f filter.wasm registry.example.com/acme/filter:v1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWasm(cmd.Context(), f, opts)
		},
	}
	regcmd.NoEnv(cmd)
	regcmd.Deprecate(f, cmd, deprecation)
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringVarP(&opts.File, "file", "f", "", "path to the wasm file to upload")
	return cmd
}

// ParseFile reads -f PATH[:OS[/ARCH[/VARIANT]]].
func ParseFile(s string) (path string, p *v1.Platform, err error) {
	path, plat, ok := strings.Cut(s, ":")
	if path == "" {
		return "", nil, fmt.Errorf("-f %q: no file path", s)
	}
	if !ok {
		return path, nil, nil
	}
	parts := strings.Split(plat, "/")
	if parts[0] == "" || len(parts) > 3 {
		return "", nil, fmt.Errorf("-f %q: want FILE:OS[/ARCH[/VARIANT]]", s)
	}
	p = &v1.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return path, p, nil
}

func runBlob(ctx context.Context, f *cli.Factory, o *BlobOptions) error {
	if err := regcmd.NoTagPrefix(o.TagPrefix); err != nil {
		return err
	}
	if len(o.Files) == 0 {
		return errors.New("-f/--files: give at least one file")
	}
	files := make([]oci.UploadFile, 0, len(o.Files))
	for _, spec := range o.Files {
		path, plat, err := ParseFile(spec)
		if err != nil {
			return err
		}
		if len(o.Files) > 1 && plat == nil {
			return fmt.Errorf("-f %s: with several files, each needs its platform (FILE:OS/ARCH)", spec)
		}
		data, err := fileutil.ReadLimit(path, maxFile)
		if err != nil {
			return fmt.Errorf("-f %s: %w", path, err)
		}
		files = append(files, oci.UploadFile{Name: path, Data: data, Platform: plat})
	}
	c, err := o.Registry.Client(f)
	if err != nil {
		return err
	}
	ref, err := c.ParseReference(o.Image)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", o.Image, err)
	}
	d, err := c.UploadBlobs(ctx, ref, files, types.MediaType(o.ContentType), o.Annotations)
	if err != nil {
		return err
	}
	if len(files) > 1 {
		fmt.Fprintf(f.IOStreams.ErrOut, "Uploading multi-platform index to %s\n", d)
	} else {
		fmt.Fprintln(f.IOStreams.ErrOut, "Uploaded image to:")
	}
	fmt.Fprintln(f.IOStreams.Out, d.String())
	return nil
}

func runWasm(ctx context.Context, f *cli.Factory, o *WasmOptions) error {
	if err := regcmd.NoTagPrefix(o.TagPrefix); err != nil {
		return err
	}
	if o.File == "" {
		return errors.New("-f/--file: give the wasm module to upload")
	}
	data, err := fileutil.ReadLimit(o.File, maxFile)
	if err != nil {
		return fmt.Errorf("-f %s: %w", o.File, err)
	}
	c, err := o.Registry.Client(f)
	if err != nil {
		return err
	}
	ref, err := c.ParseReference(o.Image)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", o.Image, err)
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "Uploading wasm file from [%s] to [%s].\n", o.File, ref.Name())
	d, err := c.UploadWasm(ctx, ref, data)
	if err != nil {
		return err
	}
	fmt.Fprintln(f.IOStreams.ErrOut, "Uploaded image to:")
	fmt.Fprintln(f.IOStreams.Out, d.String())
	return nil
}
