package watch

import (
	"testing"
	"time"
)

func TestCursor(t *testing.T) {
	const wait = time.Minute
	type step struct {
		meta    ResponseMeta
		verdict verdict
		next    QueryOptions // options of the query after this answer
	}
	tests := []struct {
		name     string
		maxStale time.Duration
		first    QueryOptions
		steps    []step
	}{{
		name:  "first answer moves, same index is unchanged, higher moves",
		first: QueryOptions{},
		steps: []step{
			{ResponseMeta{LastIndex: 10}, moved, QueryOptions{WaitIndex: 10, WaitTime: wait}},
			{ResponseMeta{LastIndex: 10}, unchanged, QueryOptions{WaitIndex: 10, WaitTime: wait}},
			{ResponseMeta{LastIndex: 12}, moved, QueryOptions{WaitIndex: 12, WaitTime: wait}},
		},
	}, {
		name:  "backwards index resets to a non-blocking query",
		first: QueryOptions{},
		steps: []step{
			{ResponseMeta{LastIndex: 50}, moved, QueryOptions{WaitIndex: 50, WaitTime: wait}},
			{ResponseMeta{LastIndex: 7}, rewound, QueryOptions{}},
			{ResponseMeta{LastIndex: 7}, moved, QueryOptions{WaitIndex: 7, WaitTime: wait}},
		},
	}, {
		name:  "index 0 is clamped to 1 so the next query blocks",
		first: QueryOptions{},
		steps: []step{
			{ResponseMeta{LastIndex: 0}, moved, QueryOptions{WaitIndex: 1, WaitTime: wait}},
			{ResponseMeta{LastIndex: 0}, unchanged, QueryOptions{WaitIndex: 1, WaitTime: wait}},
		},
	}, {
		name:     "too stale is asked again of the leader, then stale again",
		maxStale: 2 * time.Second,
		first:    QueryOptions{AllowStale: true},
		steps: []step{
			{ResponseMeta{LastIndex: 5, LastContact: 3 * time.Second}, tooStale, QueryOptions{}},
			// A consistent answer is never too stale, whatever its LastContact.
			{ResponseMeta{LastIndex: 6, LastContact: 3 * time.Second}, moved, QueryOptions{WaitIndex: 6, WaitTime: wait, AllowStale: true}},
			{ResponseMeta{LastIndex: 8, LastContact: 2 * time.Second}, moved, QueryOptions{WaitIndex: 8, WaitTime: wait, AllowStale: true}},
		},
	}, {
		name:  "without max_stale queries are never stale",
		first: QueryOptions{},
		steps: []step{
			{ResponseMeta{LastIndex: 5, LastContact: time.Hour}, moved, QueryOptions{WaitIndex: 5, WaitTime: wait}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cursor{maxStale: tt.maxStale}
			q := c.options(wait)
			if q != tt.first {
				t.Fatalf("first query %+v, want %+v", q, tt.first)
			}
			for i, s := range tt.steps {
				if v := c.answer(q, s.meta); v != s.verdict {
					t.Fatalf("step %d: verdict %d, want %d", i, v, s.verdict)
				}
				q = c.options(wait)
				if q != s.next {
					t.Fatalf("step %d: next query %+v, want %+v", i, q, s.next)
				}
			}
		})
	}
}

func TestCursorFailureAsksAfresh(t *testing.T) {
	c := cursor{maxStale: time.Second}
	if v := c.answer(c.options(time.Minute), ResponseMeta{LastIndex: 40}); v != moved {
		t.Fatalf("verdict %d, want moved", v)
	}
	c.failed()
	if q := c.options(time.Minute); q != (QueryOptions{AllowStale: true}) {
		t.Fatalf("after a failure: %+v, want a fresh stale-allowed query", q)
	}
}
