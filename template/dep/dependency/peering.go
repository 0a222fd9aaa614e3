package dependency

import "time"

// Peering is one cluster peering (peerings), with consul-template's fields.
type Peering struct {
	ID                  string
	Name                string
	Partition           string
	Meta                map[string]string
	PeeringState        string
	PeerID              string
	PeerServerName      string
	PeerServerAddresses []string
	StreamStatus        PeeringStreamStatus
	Remote              PeeringRemoteInfo
}

// PeeringStreamStatus is the state of a peering's replication stream.
type PeeringStreamStatus struct {
	ImportedServices []string
	ExportedServices []string
	LastHeartbeat    *time.Time
	LastReceive      *time.Time
	LastSend         *time.Time
}

// PeeringRemoteInfo is where the peer is.
type PeeringRemoteInfo struct {
	Partition  string
	Datacenter string
}
