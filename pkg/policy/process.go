package policy

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EngineProgram is the name of the program that runs the engines.
const EngineProgram = "signet-policy"

// Process runs the engines in the signet-policy program: one child per
// Process, started by the first Compile and kept for the Process's life (a
// CLI run, or an admission server's), so a run that checks many
// attestations pays the engines' start once. Requests are answered one at
// a time. A child that dies, or is killed because a context ended, is
// started again by the next call, which compiles the sets it needs again.
type Process struct {
	// Path is the program; "" finds it with FindEngine("").
	Path string
	// Env is the child's whole environment, as given (tests); nil is
	// EngineEnv of this process's: only what the engines need.
	Env []string
	// MemoryLimit is the child's soft memory limit (its GOMEMLIMIT) in
	// bytes; 0 passes signet's GOMEMLIMIT on when set, else signet-policy
	// keeps its own default. Set it before the first Compile.
	MemoryLimit int64

	mu    sync.Mutex
	child *child
	gen   int // counts children started, so a set knows when to recompile
	// sets are the sets compiled in the live child, by content: an
	// admission server compiles its policies again on every relist and
	// watch event, and the child would otherwise keep every copy.
	sets map[[32]byte]int
}

type child struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *tail
	exited chan struct{}
}

// FindEngine returns the signet-policy to run: override when given, else
// the one beside this executable (symlinks resolved, so `ln -s signet
// cosign` finds it), else one on PATH.
func FindEngine(override string) (string, error) {
	name := EngineProgram
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if override != "" {
		if !isExecutable(override) {
			return "", fmt.Errorf("the policy engine %s is not an executable file", override)
		}
		return override, nil
	}
	exe, err := os.Executable()
	if err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		if p := filepath.Join(filepath.Dir(exe), name); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	where := "this executable"
	if exe != "" {
		where = filepath.Dir(exe)
	}
	return "", fmt.Errorf("the policy engine %s is not installed beside signet (%s) nor on PATH: it ships with signet (make build, make install, the release archives)", EngineProgram, where)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0)
}

// Compile implements Engine.
func (p *Process) Compile(ctx context.Context, conv Convention, srcs []Source) (Evaluator, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, err := p.compile(ctx, conv, srcs)
	if err != nil {
		return nil, err
	}
	return &remoteSet{p: p, conv: conv, srcs: srcs, gen: p.gen, id: id}, nil
}

func (p *Process) compile(ctx context.Context, conv Convention, srcs []Source) (int, error) {
	key := setKey(conv, srcs)
	if id, ok := p.sets[key]; ok && p.child != nil {
		return id, nil
	}
	resp, err := p.call(ctx, &Request{Op: OpCompile, Convention: conv, Sources: srcs})
	if err != nil {
		return 0, err
	}
	if resp.Error != "" {
		return 0, errors.New(resp.Error) // the engine's words, as in-process
	}
	p.sets[key] = resp.Set // call started the child if needed, so sets is this child's
	return resp.Set, nil
}

// setKey identifies a set by what it was compiled from.
func setKey(conv Convention, srcs []Source) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n", conv)
	for _, s := range srcs {
		fmt.Fprintf(h, "%d:%s%d:%s%d:", len(s.Name), s.Name, len(s.Lang), s.Lang, len(s.Data))
		h.Write(s.Data)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// Close ends the child, if one runs.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.child != nil {
		p.child.stop(2 * time.Second)
		p.child = nil
	}
	return nil
}

// remoteSet is a set compiled in the child of generation gen.
type remoteSet struct {
	p    *Process
	conv Convention
	srcs []Source
	gen  int
	id   int
}

func (s *remoteSet) Check(ctx context.Context, statement []byte) (*Result, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if s.p.child == nil || s.gen != s.p.gen {
			// Compiled in an earlier child: compile again, in the live
			// child (call starts one when there is none). Starting a new
			// one here would kill a child other sets were compiled in,
			// and two sets would then take turns restarting it.
			id, err := s.p.compile(ctx, s.conv, s.srcs)
			if err != nil {
				return nil, err
			}
			s.gen, s.id = s.p.gen, id
		}
		gen := s.p.gen
		resp, err := s.p.call(ctx, &Request{Op: OpCheck, Set: s.id, Statement: statement})
		if s.p.gen != gen && attempt == 0 {
			continue // the child had died and was replaced: the set is not in it
		}
		if err != nil {
			return nil, err
		}
		if resp.Error != "" {
			return nil, errors.New(resp.Error)
		}
		if resp.Result == nil {
			return &Result{}, nil
		}
		return resp.Result, nil
	}
}

// call sends one request and reads its answer; p.mu is held. A child
// that fails, or that a done ctx kills, is dropped for the next call to
// replace.
func (p *Process) call(ctx context.Context, req *Request) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.child != nil {
		select {
		case <-p.child.exited: // died since the last call (killed, OOM)
			p.child.stop(0)
			p.child = nil
		default:
		}
	}
	if p.child == nil {
		if err := p.start(ctx); err != nil {
			return nil, err
		}
	}
	c := p.child
	resp, killed, err := c.roundTrip(ctx, req)
	if killed && err == nil {
		// The deadline fired as the answer came: the answer stands, the
		// child is being killed.
		c.stop(0)
		p.child = nil
	}
	if err != nil {
		c.stop(0)
		p.child = nil
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("policy engine %s: %w%s", c.cmd.Path, err, c.stderr.say())
	}
	return resp, nil
}

// start runs a new child and checks that it speaks this protocol, within
// ctx and at most 30 s.
func (p *Process) start(ctx context.Context) error {
	if p.child != nil {
		p.child.stop(0)
		p.child = nil
	}
	path := p.Path
	if path == "" {
		var err error
		if path, err = FindEngine(""); err != nil {
			return err
		}
	}
	cmd := exec.Command(path)
	cmd.Env = p.Env
	if cmd.Env == nil {
		cmd.Env = EngineEnv(os.Environ(), p.MemoryLimit)
	} else if p.MemoryLimit > 0 {
		cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], "GOMEMLIMIT="+strconv.FormatInt(p.MemoryLimit, 10))
	}
	c := &child{cmd: cmd, stderr: &tail{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("policy engine %s: %w", path, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("policy engine %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the policy engine %s: %w", path, err)
	}
	c.in, c.out = in, bufio.NewReaderSize(out, 1<<16)
	go func() { _ = cmd.Wait(); close(c.exited) }()
	p.gen++
	p.child = c
	p.sets = map[[32]byte]int{}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := p.call(ctx, &Request{Op: OpHello, Version: ProtocolVersion})
	if err != nil {
		return err
	}
	if resp.Version != ProtocolVersion {
		c.stop(0)
		p.child = nil
		return fmt.Errorf("the policy engine %s speaks protocol %d, this signet speaks %d: install the %s of this signet's release", path, resp.Version, ProtocolVersion, EngineProgram)
	}
	return nil
}

// roundTrip sends a request and reads its answer. killed: a done ctx
// began killing the child (the read then ends at once), whether or not
// the answer made it first.
func (c *child) roundTrip(ctx context.Context, req *Request) (resp *Response, killed bool, err error) {
	stop := context.AfterFunc(ctx, func() { _ = c.cmd.Process.Kill() })
	defer func() { killed = !stop() }()
	if err := WriteRequest(c.in, req); err != nil {
		return nil, false, fmt.Errorf("writing a request: %w", err)
	}
	resp, err = ReadResponse(c.out)
	if err != nil {
		return nil, false, fmt.Errorf("reading an answer: %w", err)
	}
	return resp, false, nil
}

// stop closes the child's stdin (it exits at the end of its input) and
// kills it when it has not exited within grace.
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

// tail keeps the last bytes a child wrote to stderr, for the error that
// says why it died.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 2048

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = t.buf[len(t.buf)-tailSize:]
	}
	return len(b), nil
}

// say is the tail as one line, ": <text>", or "".
func (t *tail) say() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.Join(strings.Fields(string(t.buf)), " ")
	if s == "" {
		return ""
	}
	return ": " + s
}
