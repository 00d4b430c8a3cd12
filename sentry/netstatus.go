package sentry

// NetworkStatus describes the packet path and the network agent.
type NetworkStatus struct {
	// Stack is the sandbox's network: "netstack" (gVisor's own stack:
	// every packet passes the filter), "host" (--network=host: gVisor
	// hands sockets to the host kernel, so there is no packet path and
	// no packet is filtered) or "none".
	Stack string `json:"stack"`
	// Filter reports that the filter is installed; Why says why not.
	Filter bool   `json:"filter"`
	Why    string `json:"why,omitempty"`
	// Egress summarizes the egress policy ("default allow, 2 rules").
	Egress string `json:"egress,omitempty"`
	// Counters of the filter since the sandbox started.
	Flows     uint64 `json:"flows"`
	LiveFlows uint64 `json:"live_flows"`
	Refused   uint64 `json:"refused"`
	Blocked   uint64 `json:"blocked"`
	Packets   uint64 `json:"packets"`
	TableMiss uint64 `json:"table_misses"`
	RingDrops uint64 `json:"ring_drops"`
	// Failed counts failed outbound probes (refused, or unanswered: what
	// the scan detector counts).
	Failed     uint64         `json:"failed_probes"`
	BytesOut   uint64         `json:"bytes_out"`
	BytesIn    uint64         `json:"bytes_in"`
	Blocks     []BlockStatus  `json:"blocks,omitempty"`
	TopRemotes []RemoteStatus `json:"top_remotes,omitempty"`
}

// BlockStatus is one block in force (a carried network decision).
type BlockStatus struct {
	Remote string `json:"remote"`
	Until  string `json:"until"`
	Why    string `json:"why,omitempty"`
}

// RemoteStatus is one remote end's traffic.
type RemoteStatus struct {
	Remote   string `json:"remote"`
	Flows    uint64 `json:"flows"`
	BytesOut uint64 `json:"bytes_out"`
	BytesIn  uint64 `json:"bytes_in"`
}
