// Package dedup lets many drcon agents share one set of Consul queries.
//
// Agents whose template jobs need the same set of shareable dependencies
// form a group. One of them, the leader, holds the group's lock in Consul KV
// and runs the blocking queries as usual; it publishes the answers
// (dependency data, never rendered files) compressed under the group's data
// key. The others, followers, block on that one key and on the lock, and
// answer their watcher pool from the published data; every agent renders
// its own files, so host-specific functions (env, file, the local node,
// Connect certificates) stay local.
//
// Identity. A group is named by the canonical strings of its shareable
// dependencies (Identity), not by template text: agents whose templates
// differ but need the same data share; agents whose environment makes them
// need different data do not. The set is read from the agent's watcher
// pool once it has settled (every dependency answered, nothing new wanted
// for a moment), so n-pass discovery converges before an agent joins.
//
// KV layout, under the configured prefix:
//
//	<prefix><identity>/lock  held by the leader's session; its value is a
//	                         small JSON beat, rewritten every ttl/3
//	<prefix><identity>/data  held by the same session: a version line, then
//	                         gzip-compressed lines of JSON, the answers with
//	                         their Consul indexes, the writer's session and
//	                         a publication sequence (format.go)
//
// Freshness. A follower answers from the data only while it hears from the
// leader that wrote it: a beat or a new publication within ttl plus a short
// grace. Otherwise (no data yet, data corrupt, written by a newer drcon,
// the leader silent or unable to publish) it queries Consul itself and
// says why in Status; it never answers from part of a publication. The
// ttl is the longer of the follower's and the leader's, which the beat
// carries, so that agents whose ttl differs agree on silence. A leader
// silent for ttl is deposed: a follower confirms the silence with a
// consistent read, destroys the silent session and takes the lock, so
// hand-over does not wait for Consul to expire the session (which takes up
// to twice its TTL). A leader that stops, or whose set changes, writes a
// last beat and lets go of the lock and the data (keeping its value) at
// once; a leader whose data key is changed by anyone else writes it again.
//
// Member is the one type the agent uses: it wraps the agent's Consul
// fetcher (implementing watch.Fetcher) and runs the election, the
// heartbeats, the watches and the publications in Run.
package dedup
