package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/signetdev/signet/pkg/policy"
)

// Serve answers policy.Process's requests from in on out until in ends:
// the whole of the signet-policy program. Sets live until forgotten or
// until the pipe closes.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	sets := map[int]*Set{}
	next := 0
	for {
		req, err := policy.ReadRequest(r)
		if err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading a request: %w", err)
		}
		var resp policy.Response
		switch req.Op {
		case policy.OpHello:
			resp.Version = policy.ProtocolVersion
		case policy.OpCompile:
			set, err := Compile(ctx, req.Convention, req.Sources...)
			if err != nil {
				resp.Error = err.Error()
				break
			}
			next++
			sets[next] = set
			resp.Set = next
		case policy.OpCheck:
			set, ok := sets[req.Set]
			if !ok {
				resp.Error = fmt.Sprintf("no compiled policy set %d", req.Set)
				break
			}
			r, err := set.Check(ctx, req.Statement)
			if err != nil {
				resp.Error = err.Error()
				break
			}
			resp.Result = r
		case policy.OpForget:
			delete(sets, req.Set)
		default:
			resp.Error = fmt.Sprintf("unknown op %q", req.Op)
		}
		if err := enc.Encode(&resp); err != nil {
			return fmt.Errorf("writing an answer: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("writing an answer: %w", err)
		}
	}
}
