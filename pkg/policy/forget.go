package policy

import (
	"context"
	"runtime"
)

// An admission server compiles its attestation policies again on every
// edit, and drops the old ones; the child would keep every set it ever
// compiled (CUE and OPA values, MiB each) for the server's life. A set is
// forgotten in the child when the collector finds no remoteSet of its
// content left: not when a holder says it is done, as a review still in
// flight may hold the old policies after the server dropped them.
//
// p.refs counts the remoteSets alive per content, over every child (a
// set outlives the child it was compiled in and compiles itself again in
// the next). A remoteSet's cleanup cannot take p.mu, which a compile
// holds for as long as the child takes: it queues the content's key
// (p.fmu), and a goroutine counts it down under p.mu. Until then the
// count still holds the set, so a Compile of the same content meanwhile
// reuses its id and the count never reaches zero for it. At zero the set
// leaves p.sets, and its forget goes to the child that compiled it, which
// p.sets belongs to (start replaces both together): never to a later
// child, where the same id is another set.

// hold counts s as a holder of the set of key and has the collector
// queue it when s is unreachable; p.mu is held.
func (p *Process) hold(s *remoteSet, key [32]byte) {
	if p.refs == nil {
		p.refs = map[[32]byte]int{}
	}
	p.refs[key]++
	runtime.AddCleanup(s, p.dropped, key)
}

// dropped runs on the runtime's cleanup goroutine, so it only queues.
func (p *Process) dropped(key [32]byte) {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	p.drops = append(p.drops, key)
	if !p.draining {
		p.draining = true
		go p.drain()
	}
}

// drain counts down the queued holders and forgets the sets none is left
// of.
func (p *Process) drain() {
	p.mu.Lock()
	p.fmu.Lock()
	drops := p.drops
	p.drops, p.draining = nil, false
	p.fmu.Unlock()
	var ids []int
	for _, key := range drops {
		if p.refs[key]--; p.refs[key] > 0 {
			continue
		}
		delete(p.refs, key)
		if id, ok := p.sets[key]; ok {
			delete(p.sets, key)
			ids = append(ids, id)
		}
	}
	c := p.child
	p.mu.Unlock()
	if c == nil || c.dead() {
		return // its sets died with it
	}
	for _, id := range ids {
		// Not under p.mu: the answer may wait for the child to read,
		// which compiles need not. A child that dies meanwhile took
		// the set with it, so its error is nothing to act on. No
		// deadline: a forget given up on would kill the child.
		resp, _, err := c.roundTrip(context.Background(), &Request{Op: OpForget, Set: id})
		if err != nil {
			return
		}
		if resp.Error == "" {
			p.fmu.Lock()
			p.forgets++
			p.fmu.Unlock()
		}
	}
}
