package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/signetdev/signet/pkg/policy"
)

// Serve answers policy.Process's requests from in on out until in ends:
// the whole of the signet-policy program. Sets live until forgotten or
// until the pipe closes. Checks run alongside each other, as many as the
// hello asked for (at most policy.MaxConcurrency): the reading waits for
// a free one, so a signet that asks for more is slowed, not obeyed. When
// in ends, Serve answers the checks still running before it returns.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	s := &server{
		w:       bufio.NewWriter(out),
		sets:    map[int]*Set{},
		running: map[uint64]context.CancelFunc{},
		slots:   make(chan struct{}, 1),
	}
	s.enc = json.NewEncoder(s.w)
	err := s.serve(ctx, bufio.NewReaderSize(in, 1<<16))
	s.wg.Wait()
	if err == nil {
		err = s.writeErr
	}
	return err
}

type server struct {
	wmu      sync.Mutex // one answer at a time
	w        *bufio.Writer
	enc      *json.Encoder
	writeErr error

	mu      sync.Mutex
	sets    map[int]*Set
	next    int
	running map[uint64]context.CancelFunc // checks by request ID

	slots chan struct{} // a check holds one while it runs
	wg    sync.WaitGroup
}

func (s *server) serve(ctx context.Context, r *bufio.Reader) error {
	for {
		req, err := policy.ReadRequest(r)
		if err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading a request: %w", err)
		}
		resp := policy.Response{ID: req.ID}
		switch req.Op {
		case policy.OpHello:
			resp.Version = policy.ProtocolVersion
			n := min(max(req.Concurrency, 1), policy.MaxConcurrency)
			// Before any check runs (signet waits for this answer), so
			// no slot of the old size is held.
			s.slots = make(chan struct{}, n)
		case policy.OpCompile:
			set, err := Compile(ctx, req.Convention, req.Sources...)
			if err != nil {
				resp.Error = err.Error()
				break
			}
			s.mu.Lock()
			s.next++
			s.sets[s.next] = set
			resp.Set = s.next
			s.mu.Unlock()
		case policy.OpCheck:
			s.mu.Lock()
			set, ok := s.sets[req.Set]
			s.mu.Unlock()
			if !ok {
				resp.Error = fmt.Sprintf("no compiled policy set %d", req.Set)
				break
			}
			s.check(ctx, set, req)
			continue // check answers when it is done
		case policy.OpForget:
			s.mu.Lock()
			delete(s.sets, req.Set)
			s.mu.Unlock()
		case policy.OpCancel:
			s.mu.Lock()
			if cancel, ok := s.running[req.ID]; ok {
				cancel()
			}
			s.mu.Unlock()
			continue // the check answers
		default:
			resp.Error = fmt.Sprintf("unknown op %q", req.Op)
		}
		if err := s.answer(&resp); err != nil {
			return err
		}
	}
}

// check runs req in its own goroutine once a slot is free. A Rego
// evaluation stops when cancelled; a CUE one runs to its end (CUE takes
// no context), and signet kills the engine if that takes too long.
func (s *server) check(ctx context.Context, set *Set, req *policy.Request) {
	slots := s.slots
	slots <- struct{}{}
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.running[req.ID] = cancel
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		resp := policy.Response{ID: req.ID}
		r, err := set.Check(ctx, req.Statement)
		if err != nil {
			resp.Error = err.Error()
		} else {
			resp.Result = r
		}
		s.mu.Lock()
		delete(s.running, req.ID)
		s.mu.Unlock()
		cancel()
		<-slots
		_ = s.answer(&resp) // a failed write is Serve's error, and ends signet's reading
	}()
}

// answer writes one answer line and flushes it.
func (s *server) answer(resp *policy.Response) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.writeErr != nil {
		return s.writeErr
	}
	err := s.enc.Encode(resp)
	if err == nil {
		err = s.w.Flush()
	}
	if err != nil {
		s.writeErr = fmt.Errorf("writing an answer: %w", err)
	}
	return s.writeErr
}
