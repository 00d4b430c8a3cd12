package heal

// Status is what the agent knows of the containers it follows, for
// `swarm status` (encoding/json writes it as is).
type Status struct {
	Containers []ContainerStatus `json:"containers"`
}

// ContainerStatus is one container's supervised processes.
type ContainerStatus struct {
	Slot uint32 `json:"slot"`
	// Processes are main, then the services in the policy's order.
	Processes []ProcessStatus `json:"processes"`
	// Finished: main is over; athena init restarts nothing any more.
	Finished bool `json:"finished"`
	// Orphans counts the exits of processes init reaped that were
	// neither main nor a service (reparented to it).
	Orphans uint64 `json:"orphans"`
}

// ProcessStatus is one supervised process.
type ProcessStatus struct {
	// Name is MainName or the service's name; Comm its command name.
	Name string `json:"name"`
	Comm string `json:"comm"`
	// Policy is its restart policy, defaults filled in (PolicyString:
	// "on-failure, backoff 100ms..10s, intensity 5/1m").
	Policy string `json:"policy"`
	// Exits counts its exits; Restarts the restarts decided after them
	// (a Restarting one included).
	Exits    uint64 `json:"exits"`
	Restarts uint64 `json:"restarts"`
	// LastCause is how it last ended ("exited with status 1", "killed
	// by SIGSEGV"), LastExit when (ns since the Unix epoch) and LastPID
	// its PID then; zero if it never exited.
	LastCause string `json:"last_cause,omitempty"`
	LastExit  int64  `json:"last_exit,omitempty"`
	LastPID   int32  `json:"last_pid,omitempty"`
	// State is "running", "restarting", "given-up" or "done" (State).
	State string `json:"state"`
	// RestartAt is when a restarting process starts again (ns).
	RestartAt int64 `json:"restart_at,omitempty"`
}

// Status returns the state of every container followed, by slot.
func (a *Agent) Status() Status {
	st := Status{Containers: make([]ContainerStatus, 0, len(a.order))}
	for _, c := range a.order {
		cs := ContainerStatus{Slot: c.slot, Finished: c.finished, Orphans: c.orphans,
			Processes: make([]ProcessStatus, 0, len(c.procs))}
		for i := range c.procs {
			p := &c.procs[i]
			ps := ProcessStatus{
				Name: p.name, Comm: string(p.comm[:p.commN]), Policy: PolicyString(p.policy),
				Exits: p.exits, Restarts: p.restarts,
				LastCause: p.lastCause, LastExit: p.lastExit, LastPID: p.lastPID,
				State: p.state.String(),
			}
			if p.state == Restarting {
				ps.RestartAt = p.restartAt
			}
			cs.Processes = append(cs.Processes, ps)
		}
		st.Containers = append(st.Containers, cs)
	}
	return st
}
