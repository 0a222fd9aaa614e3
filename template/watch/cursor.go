package watch

import "time"

// cursor is the blocking-query state of one dependency: the index to wait on
// and whether the next query may be stale. It is pure logic, owned by the
// dependency's poller.
type cursor struct {
	index      uint64
	maxStale   time.Duration
	consistent bool // the next query must go to the leader
}

// verdict is what an answer means for the dependency's data.
type verdict int

const (
	// unchanged: the index did not move (a blocking query timed out).
	unchanged verdict = iota
	// tooStale: the answering server had not heard from the leader for more
	// than max_stale; the answer is dropped and asked again of the leader.
	tooStale
	// rewound: the index went backwards (Consul restarted, or another server
	// with a shorter history answered); the answer is dropped and asked
	// again without an index.
	rewound
	// moved: the index moved forward; the data may have changed.
	moved
)

// options are the query options of the next query.
func (c *cursor) options(wait time.Duration) QueryOptions {
	q := QueryOptions{WaitIndex: c.index, AllowStale: c.maxStale > 0 && !c.consistent}
	if c.index > 0 {
		q.WaitTime = wait
	}
	return q
}

// answer records an answer to the query built by options and says what it means.
func (c *cursor) answer(q QueryOptions, m ResponseMeta) verdict {
	if q.AllowStale && m.LastContact > c.maxStale {
		c.consistent = true
		return tooStale
	}
	c.consistent = false
	// Consul never answers index 0 to a successful query, because a client
	// that waits on 0 does not block; clamp it the same way so that a broken
	// answer cannot turn a blocking watch into a busy loop.
	idx := max(m.LastIndex, 1)
	switch {
	case idx == c.index:
		return unchanged
	case idx < c.index:
		c.index = 0
		return rewound
	}
	c.index = idx
	return moved
}

// failed records a failed query. The next query is sent without an index:
// after a failure the server that answers may be a new one (a restarted
// agent starts with a low index and would hold a query on our old index
// until its wait ran out), so asking afresh heals at once, and identical
// data is still recognised by comparison.
func (c *cursor) failed() {
	c.index = 0
	c.consistent = false
}
