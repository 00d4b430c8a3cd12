package record

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Type is the "type" of a swarm decision line.
const Type = "swarm"

// Decision is one swarm decision about a task.
type Decision struct {
	Type string `json:"type"`
	// ID names the decision for `swarm explain`: the first 12
	// characters of the sandbox's container ID, a dash, and a sequence
	// number ("3f2a9c1b0d4e-17").
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	Container string    `json:"container"`
	PID       int32     `json:"pid"`
	TID       int32     `json:"tid"`
	Comm      string    `json:"comm,omitempty"`
	// Agent is the agent whose decision this is; Asked the action it
	// asked for, Action the one carried out.
	Agent  string `json:"agent"`
	Asked  string `json:"asked"`
	Action string `json:"action"`
	// Carried reports a harmful action (deny, kill) the quorum agreed
	// to; Pending one that lacked votes and was carried out as Action
	// (a delay or a record) instead.
	Carried bool `json:"carried,omitempty"`
	Pending bool `json:"pending,omitempty"`
	// Mode is the deciding agent's mode (learn, observe, enforce).
	Mode     string        `json:"mode"`
	Delay    time.Duration `json:"delay_ns,omitempty"`
	Score    float64       `json:"score"`
	Reason   string        `json:"reason"`
	Evidence []string      `json:"evidence,omitempty"`
	// Quorum says what the quorum asks ("2 of rules,selfmodel,rate
	// within 10s"); Votes are the live votes about the task, the
	// deciding one last.
	Quorum string `json:"quorum,omitempty"`
	Votes  []Vote `json:"votes,omitempty"`
	// Repeats counts further decisions of the same agent, action and
	// reason about the task folded into this one.
	Repeats int `json:"repeats,omitempty"`
}

// Vote is one agent's live vote behind a decision.
type Vote struct {
	Time     time.Time `json:"time"`
	Agent    string    `json:"agent"`
	Action   string    `json:"action"`
	Score    float64   `json:"score"`
	Reason   string    `json:"reason"`
	Evidence []string  `json:"evidence,omitempty"`
}

// ShortID is the container ID prefix decision IDs start with.
func ShortID(container string) string {
	if len(container) > 12 {
		return container[:12]
	}
	return container
}

// MakeID returns the ID of a sandbox's n-th decision.
func MakeID(container string, n uint64) string {
	return fmt.Sprintf("%s-%d", ShortID(container), n)
}

// SplitID returns the container ID prefix of a decision ID.
func SplitID(id string) (prefix string, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || i == len(id)-1 {
		return "", false
	}
	for _, c := range id[i+1:] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return id[:i], true
}

// Append appends d as one JSON line.
func Append(b []byte, d *Decision) []byte {
	d.Type = Type
	j, err := json.Marshal(d)
	if err != nil {
		// Only unsupported values fail, and Decision has none.
		panic(err)
	}
	return append(append(b, j...), '\n')
}

// Parse decodes one line; ok is false for a line of another type.
func Parse(line []byte) (d Decision, ok bool, err error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return d, false, err
	}
	if head.Type != Type {
		return d, false, nil
	}
	err = json.Unmarshal(line, &d)
	return d, err == nil, err
}
