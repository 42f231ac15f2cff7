package localstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Check is how readiness (and health, for status) is probed: an HTTP GET
// whose status is 200 and whose body contains Want, or a TCP connect.
type Check struct {
	URL  string `json:"url,omitempty"`
	Want string `json:"want,omitempty"`
	TCP  string `json:"tcp,omitempty"`
}

// Probe runs the check once.
func (c Check) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if c.TCP != "" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.TCP)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", c.URL, resp.Status)
	}
	if c.Want != "" && !bytes.Contains(body, []byte(c.Want)) {
		return fmt.Errorf("GET %s: body lacks %q", c.URL, c.Want)
	}
	return nil
}

// Proc is one long-running service. Everything needed to start it again
// is recorded, so a test can stop and restart a single service.
type Proc struct {
	Name        string        `json:"name"`
	Argv        []string      `json:"argv"`
	Env         []string      `json:"env,omitempty"` // added to the inherited environment
	Log         string        `json:"log"`
	Ports       []int         `json:"ports"`
	Ready       Check         `json:"ready"`
	Cleanup     []string      `json:"cleanup,omitempty"` // files removed before each start
	StopTimeout time.Duration `json:"stop_timeout,omitempty"`
	PID         int           `json:"pid,omitempty"`
	StartTime   uint64        `json:"start_time,omitempty"` // /proc/PID/stat field 22, guards against PID reuse

	exited chan error // set while this process is our child
}

// start launches the process in its own process group, with output appended
// to its log. It fails, naming the port, if any of its ports is taken.
func (p *Proc) start() error {
	for _, port := range p.Ports {
		if err := portFree(port); err != nil {
			return fmt.Errorf("starting %s: %w", p.Name, err)
		}
	}
	for _, f := range p.Cleanup {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("starting %s: %w", p.Name, err)
		}
	}
	logf, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "==== %s starting %s\n", time.Now().Format(time.RFC3339), p.Name)
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	p.PID = cmd.Process.Pid
	p.StartTime, _ = procStartTime(p.PID)
	p.exited = make(chan error, 1)
	go func() { p.exited <- cmd.Wait() }()
	return nil
}

// waitReady polls the readiness check until it passes, the process exits,
// or ctx ends.
func (p *Proc) waitReady(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = p.Ready.Probe(ctx); last == nil {
			return nil
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("%s exited during startup (%v); last lines of %s:\n%s", p.Name, err, p.Log, tail(p.Log, 15))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %v; last lines of %s:\n%s", p.Name, last, p.Log, tail(p.Log, 15))
		case <-tick.C:
		}
	}
}

// alive reports whether the recorded process still runs (a zombie does not
// count) and is the one we started.
func (p *Proc) alive() bool {
	if p.PID <= 0 {
		return false
	}
	st, state, err := procStat(p.PID)
	if err != nil || state == "Z" || state == "X" {
		return false
	}
	return p.StartTime == 0 || st == p.StartTime
}

// signal sends sig to the process group we recorded, if it is still ours.
func (p *Proc) signal(sig syscall.Signal) {
	if p.alive() {
		_ = syscall.Kill(-p.PID, sig)
	}
}

// stop terminates the process group: SIGTERM, then SIGKILL after the
// stop timeout. It only touches the recorded PID, and only while its start
// time matches the recorded one.
func (p *Proc) stop() error {
	if !p.alive() {
		p.PID, p.StartTime = 0, 0
		return nil
	}
	p.signal(syscall.SIGTERM)
	timeout := p.StopTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	if !p.waitGone(timeout) {
		p.signal(syscall.SIGKILL)
		if !p.waitGone(5 * time.Second) {
			return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.Name, p.PID)
		}
	}
	p.PID, p.StartTime = 0, 0
	return nil
}

func (p *Proc) waitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !p.alive() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return !p.alive()
}

// procStat returns the start time (clock ticks since boot) and state letter
// of pid from /proc.
func procStat(pid int) (uint64, string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return 0, "", errors.New("malformed stat")
	}
	st, err := strconv.ParseUint(f[19], 10, 64) // field 22
	return st, f[0], err
}

func procStartTime(pid int) (uint64, error) {
	st, _, err := procStat(pid)
	return st, err
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
