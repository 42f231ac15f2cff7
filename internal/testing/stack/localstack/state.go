package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// State is what up records in RunDir/state.json: the services it started
// and the environment a test needs.
type State struct {
	Mode    Mode             `json:"mode"`
	Created time.Time        `json:"created"`
	Procs   []*Proc          `json:"procs"`
	Env     []EnvVar         `json:"env"`
	TreeIDs map[string]int64 `json:"tree_ids,omitempty"`
	Secrets []string         `json:"secrets,omitempty"` // never printed; used to redact log excerpts
}

// EnvVar is one line of the environment printed by up.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Lookup returns the value of an environment variable in the state.
func (s *State) Lookup(name string) string {
	for _, e := range s.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// Proc returns the named service, or nil.
func (s *State) Proc(name string) *Proc {
	for _, p := range s.Procs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// ServiceNames lists the services in start order.
func (s *State) ServiceNames() []string {
	var names []string
	for _, p := range s.Procs {
		names = append(names, p.Name)
	}
	return names
}

// ErrNotRunning is returned when there is no recorded stack.
var ErrNotRunning = errors.New("no local stack is running")

// LoadState reads RunDir/state.json.
func LoadState(c Config) (*State, error) {
	b, err := os.ReadFile(c.StatePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading %s: %w", c.StatePath(), err)
	}
	return &s, nil
}

func (s *State) save(c Config) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := c.StatePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, c.StatePath())
}

func (s *State) redact(msg string) string {
	for _, sec := range s.Secrets {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, "[redacted]")
		}
	}
	return msg
}

// EnvLines renders the environment as shell assignments.
func (s *State) EnvLines() string {
	var b strings.Builder
	for _, e := range s.Env {
		fmt.Fprintf(&b, "%s=%s\n", e.Name, shellQuote(e.Value))
	}
	return b.String()
}

func shellQuote(v string) string {
	if v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/:.,_-+=@%", r))
	}) < 0 {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// lock takes an exclusive lock beside the run directory, so up, down and
// start/stop of single services do not interleave.
func lock(c Config) (func(), error) { return flock(c.lockPath()) }

// flock holds an exclusive lock on path until the returned func is called.
func flock(path string) (func(), error) {
	if err := os.MkdirAll(dirOf(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "."
}
