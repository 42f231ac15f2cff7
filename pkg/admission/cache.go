package admission

import (
	"sync"
	"time"
)

// Cache remembers passing verdicts for a while, so N pods × M images do
// not fetch and verify the same signatures again (policy-controller has no
// cache). Keys name the image digest, the policy's uid and resourceVersion
// and the trust material's version, so a changed policy or trust root
// misses. Only passes are kept: an image signed after a denial is admitted
// at once.
type Cache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[cacheKey]time.Time // key → expiry
}

// cacheKey names what a verdict depends on. A struct, not a joined
// string: a cached admission builds one per image and policy, and the
// string cost an allocation each.
type cacheKey struct {
	digest                                string
	policy, uid, resourceVersion, version string
	trust                                 string
	namespace                             string // only with pull secrets
	object                                string // only for a spec.policy that includes the object
}

// NewCache returns a cache of at most max entries kept for ttl; max 0 or
// ttl 0 disables it.
func NewCache(max int, ttl time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{ttl: ttl, max: max, now: now, m: map[cacheKey]time.Time{}}
}

// Passed reports whether key passed within the TTL.
func (c *Cache) Passed(key cacheKey) bool {
	if c == nil || c.max <= 0 || c.ttl <= 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.m[key]
	if ok && c.now().Before(exp) {
		return true
	}
	if ok {
		delete(c.m, key)
	}
	return false
}

// Pass records that key passed.
func (c *Cache) Pass(key cacheKey) {
	if c == nil || c.max <= 0 || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= c.max {
		for k, exp := range c.m {
			if !now.Before(exp) {
				delete(c.m, k)
			}
		}
		// Still full: drop arbitrary entries (map order), a bound not an LRU.
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = now.Add(c.ttl)
}

// Len is the number of entries held.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Purge empties the cache (policies or trust changed wholesale).
func (c *Cache) Purge() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
