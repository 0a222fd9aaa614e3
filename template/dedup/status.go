package dedup

import "time"

// Roles of a member.
const (
	// RoleJoining: the set has not settled; every query goes to Consul.
	RoleJoining = "joining"
	// RoleLeader: the agent queries Consul and publishes for its group.
	RoleLeader = "leader"
	// RoleFollower: the agent answers from the leader's data while it
	// trusts it, and queries Consul itself otherwise (Fallback says why).
	RoleFollower = "follower"
)

// Status is what a member reports in the agent's status.
type Status struct {
	Role string `json:"role"`
	// Group is the KV path of the group, <prefix><identity>.
	Group string `json:"group,omitempty"`
	// Dependencies is the number of shareable dependencies in the set.
	Dependencies int `json:"dependencies"`
	// Shared is the number answered from the leader's data now (follower).
	Shared int `json:"shared"`
	// Leader is the holder of the lock, as it names itself (follower).
	Leader string `json:"leader,omitempty"`
	// Fallback says why a follower or a joining agent queries Consul
	// itself; empty while it trusts the leader's data.
	Fallback string `json:"fallback,omitempty"`
	// DataPublished is when the data the follower trusts was published.
	DataPublished time.Time `json:"data_published,omitzero"`

	// Published counts the leader's publications; LastPublish is the latest.
	Published   uint64    `json:"published,omitempty"`
	LastPublish time.Time `json:"last_publish,omitzero"`
	// PublishedBytes is the size of the latest publication.
	PublishedBytes int `json:"published_bytes,omitempty"`
	// Omitted lists what the leader watches but could not publish.
	Omitted []string `json:"omitted,omitempty"`

	// LastError is the latest failure talking to Consul, kept after recovery.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}
