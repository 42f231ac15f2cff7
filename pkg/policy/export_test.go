package policy

import (
	"context"
	"errors"
)

// KillForTest kills the engine without telling the Process, as an OOM
// kill would, and waits for it to exit.
func (p *Process) KillForTest() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.child == nil {
		return nil
	}
	if err := p.child.cmd.Process.Kill(); err != nil {
		return err
	}
	<-p.child.exited
	return nil
}

// SettleForTest waits until no check holds a slot: every check given up
// on has been answered, or its engine killed.
func (p *Process) SettleForTest() {
	p.mu.Lock()
	slots := p.slots
	p.mu.Unlock()
	if slots == nil {
		return
	}
	for range cap(slots) {
		slots <- struct{}{}
	}
	for range cap(slots) {
		<-slots
	}
}

// SetsForTest says how many sets the Process keeps compiled in its child,
// how many holders of sets it counts alive, and how many forgets the
// child has answered.
func (p *Process) SetsForTest() (sets, held, forgets int) {
	p.mu.Lock()
	sets = len(p.sets)
	for _, n := range p.refs {
		held += n
	}
	p.mu.Unlock()
	p.fmu.Lock()
	defer p.fmu.Unlock()
	return sets, held, p.forgets
}

// CheckSetForTest checks statement against the set of the given id in
// the live child, as no Evaluator would: to see what the child still has.
func (p *Process) CheckSetForTest(ctx context.Context, id int, statement []byte) error {
	p.mu.Lock()
	c := p.child
	p.mu.Unlock()
	if c == nil {
		return errors.New("no child")
	}
	resp, _, err := c.roundTrip(ctx, &Request{Op: OpCheck, Set: id, Statement: statement})
	if err != nil {
		return err
	}
	if resp.Error != "" {
		return errors.New(resp.Error)
	}
	return nil
}
