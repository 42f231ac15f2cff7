package policy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
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
// attestations pays the engines' start once. The child runs up to
// Concurrency checks at once (an admission server's concurrent requests);
// compiles take turns. A check whose context ends returns at once (once
// its request is written: a child not reading has CancelGrace to take
// the rest, as a request cannot be taken back half-written); the child
// is asked to stop it and is killed only when it has not within
// CancelGrace, and the checks it was running beside are then retried once
// in a new child. A child that dies is started again by the next call,
// which compiles the sets it needs again. A set no Evaluator holds any
// more is forgotten in the child (forget.go).
type Process struct {
	// Path is the program; "" finds it with FindEngine("").
	Path string
	// Env is the child's whole environment, as given (tests); nil is
	// EngineEnv of this process's: only what the engines need.
	Env []string
	// MemoryLimit is the child's soft memory limit (its GOMEMLIMIT) in
	// bytes; 0 passes signet's GOMEMLIMIT on when set, else the child
	// gets EngineMemoryLimit of its Concurrency. Set it before the first
	// Compile.
	MemoryLimit int64
	// Concurrency is how many checks the child runs at once: 0 is
	// GOMAXPROCS, at most 4, as each holds its statement as the engine's
	// values (tens to hundreds of MiB for a large SBOM); at most
	// MaxConcurrency. Set it before the first Compile.
	Concurrency int
	// CancelGrace is how long a check whose context ended may go on in
	// the child (a CUE evaluation cannot be stopped, a Rego one can)
	// before the child is killed; 0 is 2 s.
	CancelGrace time.Duration

	mu    sync.Mutex
	child *child
	gen   int // counts children started, so a set knows when to recompile
	// sets are the sets compiled in the live child, by content: an
	// admission server compiles its policies again on every relist and
	// watch event, and the child would otherwise keep every copy.
	sets  map[[32]byte]int
	refs  map[[32]byte]int // remoteSets alive per content (forget.go)
	slots chan struct{}    // a check holds one from its request to its answer

	fmu      sync.Mutex // guards the queue of dropped remoteSets, never held with a call
	drops    [][32]byte // contents of remoteSets the collector found unreachable
	draining bool       // a drain goroutine will take drops
	forgets  int        // forgets the child answered, for tests
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
	s := &remoteSet{p: p, conv: conv, srcs: srcs, gen: p.gen, id: id}
	p.hold(s, setKey(conv, srcs))
	return s, nil
}

// compile compiles srcs in the live child (starting one if needed),
// unless they already are; p.mu is held, so compiles take turns.
func (p *Process) compile(ctx context.Context, conv Convention, srcs []Source) (int, error) {
	c, err := p.live(ctx)
	if err != nil {
		return 0, err
	}
	key := setKey(conv, srcs)
	if id, ok := p.sets[key]; ok {
		return id, nil
	}
	resp, _, err := c.roundTrip(ctx, &Request{Op: OpCompile, Convention: conv, Sources: srcs})
	if err != nil {
		return 0, err
	}
	if resp.Error != "" {
		return 0, errors.New(resp.Error) // the engine's words, as in-process
	}
	p.sets[key] = resp.Set
	return resp.Set, nil
}

// live returns the live child, starting one when there is none or it
// died; p.mu is held.
func (p *Process) live(ctx context.Context) (*child, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.child != nil && !p.child.dead() {
		return p.child, nil
	}
	if p.child != nil {
		p.child.stop(0) // died since the last call (killed, OOM)
		p.child = nil
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p.child, nil
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

// Close ends the child, if one runs: at once when it still runs checks
// given up on (nobody waits for them), else when it has exited by itself
// or after 2 s.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.child != nil {
		grace := 2 * time.Second
		if p.child.busy() {
			grace = 0
		}
		p.child.stop(grace)
		p.child = nil
	}
	return nil
}

// remoteSet is a set compiled in the child of generation gen.
type remoteSet struct {
	p    *Process
	conv Convention
	srcs []Source
	gen  int // p.mu guards gen and id
	id   int
}

func (s *remoteSet) Check(ctx context.Context, statement []byte) (*Result, error) {
	// s holds its set in the child until the check has been sent (and
	// the child has it by then): no forget of it can come first.
	defer runtime.KeepAlive(s)
	release, err := s.p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		c, id, err := s.ready(ctx)
		if err != nil {
			release()
			return nil, err
		}
		resp, settled, err := c.roundTrip(ctx, &Request{Op: OpCheck, Set: id, Statement: statement})
		if settled != nil {
			// Given up on while the child still runs it: the slot is
			// the child's until it answers or dies.
			go func() { <-settled; release() }()
			return nil, err
		}
		if errors.Is(err, errDied) && attempt == 0 && ctx.Err() == nil {
			// The child died under this check (another's deadline
			// killed it, or memory): once more, in a new child.
			continue
		}
		release()
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

// ready returns the live child and the set's id in it, compiling the set
// again when it was compiled in an earlier child (live starts one when
// there is none). Starting a new one here would kill a child other sets
// were compiled in, and two sets would then take turns restarting it.
func (s *remoteSet) ready(ctx context.Context) (*child, int, error) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.live(ctx)
	if err != nil {
		return nil, 0, err
	}
	if s.gen != p.gen {
		id, err := p.compile(ctx, s.conv, s.srcs)
		if err != nil {
			return nil, 0, err
		}
		s.gen, s.id = p.gen, id
		c = p.child
	}
	return c, s.id, nil
}

// acquire takes one of the child's check slots, waiting for one within
// ctx; release gives it back.
func (p *Process) acquire(ctx context.Context) (release func(), err error) {
	p.mu.Lock()
	if p.slots == nil {
		p.slots = make(chan struct{}, p.concurrency())
	}
	slots := p.slots
	p.mu.Unlock()
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Process) concurrency() int {
	n := p.Concurrency
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), 4)
	}
	return min(max(n, 1), MaxConcurrency)
}

// start runs a new child and checks that it speaks this protocol, within
// ctx and at most 30 s; p.mu is held.
func (p *Process) start(ctx context.Context) error {
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
	if envValue(cmd.Env, "GOMEMLIMIT") == "" {
		cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], "GOMEMLIMIT="+strconv.FormatInt(EngineMemoryLimit(p.concurrency()), 10))
	}
	grace := p.CancelGrace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	c, err := startChild(cmd, grace)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	version, err := c.hello(ctx, p.concurrency())
	if err != nil {
		c.stop(0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("policy engine %s: %w%s", path, err, c.stderr.say())
	}
	if version != ProtocolVersion {
		c.stop(0)
		return fmt.Errorf("the policy engine %s speaks protocol %d, this signet speaks %d: install the %s of this signet's release", path, version, ProtocolVersion, EngineProgram)
	}
	go c.read()
	p.gen++
	p.child = c
	p.sets = map[[32]byte]int{}
	return nil
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
