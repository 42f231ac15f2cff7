package policy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

// errDied marks the error of a request whose child died before
// answering it: the caller may retry in a new child.
var errDied = errors.New("the policy engine died")

// child is one signet-policy process. Requests are written one at a
// time; answers are read by one goroutine (read) and handed to the
// request of their ID.
type child struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *tail
	exited chan struct{} // closed when the process has exited
	grace  time.Duration // Process.CancelGrace

	wmu sync.Mutex // one request written at a time

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan *Response
	err     error         // why answers stopped; set before gone closes
	gone    chan struct{} // closed when answers stop: the child exited, was killed or spoke nonsense
}

func startChild(cmd *exec.Cmd, grace time.Duration) (*child, error) {
	c := &child{cmd: cmd, stderr: &tail{}, exited: make(chan struct{}), grace: grace,
		waiting: map[uint64]chan *Response{}, gone: make(chan struct{})}
	cmd.Stderr = c.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("policy engine %s: %w", cmd.Path, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("policy engine %s: %w", cmd.Path, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the policy engine %s: %w", cmd.Path, err)
	}
	c.in, c.out = in, bufio.NewReaderSize(out, 1<<16)
	go func() { _ = cmd.Wait(); close(c.exited) }()
	return c, nil
}

// hello asks the child's protocol version before anything else is read:
// an engine of another release may not know IDs, and is refused by its
// version rather than misread. A done ctx kills the child.
func (c *child) hello(ctx context.Context, concurrency int) (int, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.cmd.Process.Kill() })
	defer stop()
	if err := WriteRequest(c.in, &Request{Op: OpHello, Version: ProtocolVersion, Concurrency: concurrency}); err != nil {
		return 0, fmt.Errorf("writing a request: %w", err)
	}
	resp, err := ReadResponse(c.out)
	if err != nil {
		return 0, fmt.Errorf("reading an answer: %w", err)
	}
	return resp.Version, nil
}

// read hands each answer to the request of its ID, until the child's
// output ends or is not an answer to a request it has.
func (c *child) read() {
	for {
		resp, err := ReadResponse(c.out)
		if err != nil {
			c.fail(fmt.Errorf("reading an answer: %w", err))
			return
		}
		c.mu.Lock()
		ch, ok := c.waiting[resp.ID]
		delete(c.waiting, resp.ID)
		c.mu.Unlock()
		if !ok {
			c.fail(fmt.Errorf("an answer to no request (id %d)", resp.ID))
			return
		}
		ch <- resp // buffered
	}
}

// fail records why the child is done with, kills it and wakes every
// request waiting on it. The first reason stands.
func (c *child) fail(err error) {
	c.mu.Lock()
	first := c.err == nil
	if first {
		c.err = err
	}
	c.mu.Unlock()
	_ = c.cmd.Process.Kill()
	if first {
		close(c.gone)
	}
}

func (c *child) dead() bool {
	select {
	case <-c.gone:
		return true
	case <-c.exited:
		return true
	default:
		return false
	}
}

// busy: requests are waiting for answers.
func (c *child) busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiting) > 0
}

// died is the error of a request the child will not answer, with the
// child's last words.
func (c *child) died() error {
	<-c.exited // so that stderr's tail is whole
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	return fmt.Errorf("policy engine %s: %w: %w%s", c.cmd.Path, errDied, err, c.stderr.say())
}

// roundTrip sends req and waits for its answer. When ctx ends first, it
// returns ctx's error at once and settled, closed when the child has
// answered the request or died: the child is asked to cancel it, and is
// killed if it has not answered within the grace period.
func (c *child) roundTrip(ctx context.Context, req *Request) (resp *Response, settled <-chan struct{}, err error) {
	ch := make(chan *Response, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, nil, c.died()
	}
	c.next++
	req.ID = c.next
	c.waiting[req.ID] = ch
	c.mu.Unlock()
	if err := c.write(ctx, req); err != nil {
		c.mu.Lock()
		delete(c.waiting, req.ID)
		c.mu.Unlock()
		return nil, nil, err
	}
	select {
	case resp := <-ch:
		return resp, nil, nil
	case <-c.gone:
		select {
		case resp := <-ch: // answered just before the end
			return resp, nil, nil
		default:
			return nil, nil, c.died()
		}
	case <-ctx.Done():
	}
	done := make(chan struct{})
	// A child that does not read its input is killed at the grace
	// period like one that does not answer, which ends this write too.
	go func() { _ = c.write(context.Background(), &Request{Op: OpCancel, ID: req.ID}) }()
	go func() {
		defer close(done)
		t := time.NewTimer(c.grace)
		defer t.Stop()
		select {
		case <-ch:
		case <-c.gone:
		case <-t.C:
			c.fail(fmt.Errorf("a request went on %v past its deadline", c.grace))
		}
	}()
	return nil, done, ctx.Err()
}

// write sends one request. A request cannot be taken back half-written:
// when ctx ends during the write, the child has the grace period to read
// the rest, as an unanswered check has to answer, and is killed only
// then. A request written in full is the caller's to cancel, whenever
// ctx ended.
func (c *child) write(ctx context.Context, req *Request) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	var mu sync.Mutex
	var kill *time.Timer
	written := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !written {
			kill = time.AfterFunc(c.grace, func() {
				c.fail(fmt.Errorf("a request's deadline passed while it was written, and the engine did not read it within %v", c.grace))
			})
		}
	})
	err := WriteRequest(c.in, req)
	stop()
	mu.Lock()
	written = true
	if kill != nil {
		kill.Stop()
	}
	mu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("writing a request: %w", err))
		return c.died()
	}
	return nil
}

// stop closes the child's stdin (it exits at the end of its input, once
// its checks are answered) and kills it when it has not exited within
// grace.
func (c *child) stop(grace time.Duration) {
	_ = c.in.Close()
	select {
	case <-c.exited:
		return
	case <-time.After(grace):
	}
	_ = c.cmd.Process.Kill()
	<-c.exited
}
