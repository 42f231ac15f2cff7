package oidc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// SPIFFE: a JWT-SVID from the SPIFFE Workload API (SPIRE agent), over its
// Unix socket. The one RPC signet needs, FetchJWTSVID, is called with gRPC
// (already linked into signet) and hand-encoded protobuf messages, instead
// of go-spiffe and its dependencies.

const fetchJWTSVIDMethod = "/SpiffeWorkloadAPI/FetchJWTSVID"

// spiffeSocket is the socket path: SPIFFE_ENDPOINT_SOCKET, as a path (as
// cosign reads it) or a unix: URI (as the SPIFFE spec writes it), else
// DefaultSPIFFESocket.
func spiffeSocket(o *Options) string {
	s := o.Getenv(EnvSPIFFESocket)
	if s == "" {
		return DefaultSPIFFESocket
	}
	if rest, ok := strings.CutPrefix(s, "unix://"); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(s, "unix:"); ok {
		return rest
	}
	return s
}

func spiffeAvailable(o *Options) (string, bool) {
	path := spiffeSocket(o)
	if _, err := os.Stat(path); err != nil {
		return "no socket " + path, false
	}
	return "socket " + path, true
}

func spiffeFetch(ctx context.Context, o *Options) (string, error) {
	path := spiffeSocket(o)
	target := "unix:" + path
	if filepath.IsAbs(path) {
		target = "unix://" + path
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return "", fmt.Errorf("SPIFFE Workload API at %s: %w", path, err)
	}
	defer conn.Close()

	ctx = metadata.AppendToOutgoingContext(ctx, "workload.spiffe.io", "true")
	req := rawMessage(encodeJWTSVIDRequest(o.Audience))
	var resp rawMessage
	o.Debugf("identity token: SPIFFE Workload API %s at %s", fetchJWTSVIDMethod, path)
	if err := conn.Invoke(ctx, fetchJWTSVIDMethod, &req, &resp, grpc.ForceCodecV2(rawCodec{})); err != nil {
		if st, ok := status.FromError(err); ok {
			return "", fmt.Errorf("SPIFFE Workload API at %s: %s: %s", path, st.Code(), redact(st.Message(), nil))
		}
		return "", fmt.Errorf("SPIFFE Workload API at %s: %w", path, err)
	}
	svid, err := firstJWTSVID(resp)
	if err != nil {
		return "", fmt.Errorf("SPIFFE Workload API at %s: %w", path, err)
	}
	return svid, nil
}

// encodeJWTSVIDRequest encodes JWTSVIDRequest{audience: [aud]}:
// repeated string audience = 1; string spiffe_id = 2 (unset: the default
// identity).
func encodeJWTSVIDRequest(audience string) []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendString(b, audience)
}

// firstJWTSVID decodes JWTSVIDResponse{repeated JWTSVID svids = 1} and
// returns the first JWTSVID's svid (JWTSVID{string spiffe_id = 1; string
// svid = 2; …}), as go-spiffe does.
func firstJWTSVID(msg []byte) (string, error) {
	svid, err := bytesField(msg, 1)
	if err != nil {
		return "", fmt.Errorf("JWTSVIDResponse: %w", err)
	}
	if svid == nil {
		return "", errors.New("no JWT-SVID in the answer")
	}
	tok, err := bytesField(svid, 2)
	if err != nil {
		return "", fmt.Errorf("JWTSVID: %w", err)
	}
	if len(tok) == 0 {
		return "", errors.New("JWT-SVID without a token")
	}
	return string(tok), nil
}

// bytesField returns the first length-delimited field num of a protobuf
// message, or nil if there is none.
func bytesField(msg []byte, num protowire.Number) ([]byte, error) {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return nil, errors.New("malformed message")
		}
		msg = msg[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return nil, errors.New("malformed message")
			}
			return v, nil
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return nil, errors.New("malformed message")
		}
		msg = msg[l:]
	}
	return nil, nil
}

// rawMessage is an already encoded protobuf message.
type rawMessage []byte

// rawCodec passes rawMessage through gRPC unchanged. Its name is "proto",
// so the content type is the one the Workload API expects.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*m)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*m = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }
