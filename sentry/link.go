package sentry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// LinkFiles are the host files a sandbox's link is made of. The host side
// (runsc-athena create) makes them, owned by the user the sandbox runs as;
// the sandbox opens them in "boot", before gVisor chroots it and applies its
// seccomp filter, and holds them for its lifetime: afterwards it could open
// nothing.
type LinkFiles struct {
	// Events is the decision record: JSON lines, appended.
	Events string
	// Status is rewritten in place with the sandbox's counters.
	Status string
	// Control is a FIFO the host writes policy replacements into.
	Control string
	// Model holds the sense-of-self model: the host writes the
	// workload's stored model there at create, the sandbox reads it as
	// its initial model and rewrites it in place while it learns
	// (selfmodel.Model's binary encoding; empty when there is none).
	Model string `json:",omitempty"`
}

// Link is the sandbox's end of the link to the host side: the durable
// decision record, the status file and the control channel. Only raw
// read/write/pwrite/ftruncate are used on the descriptors, which gVisor's
// sentry seccomp filter allows, and nothing goes through Go's poller
// (whose epoll set-up could come after the filter).
type Link struct {
	events, status, control int
	// model is the model file (-1: none).
	model int

	// maxBytes bounds the record file; past it records are lost (and
	// counted), so a chatty container cannot fill the host's disk.
	maxBytes int64
	size     int64

	// Written and Lost count decision records written to the host and
	// records lost on the way (a write error such as ENOSPC or EIO, or the
	// size bound). Lost records are reported in the status file and, once
	// the record can be written again, in a "lost" record.
	Written, Lost atomic.Uint64
	lostLogged    uint64
}

// DefaultEventsMaxBytes bounds a container's decision record.
const DefaultEventsMaxBytes = 256 << 20

// OpenLink opens the link's files. The control FIFO is opened read-write so
// that it never reports end-of-file when no host writer is connected.
func OpenLink(files LinkFiles, maxBytes int64) (*Link, error) {
	l := &Link{events: -1, status: -1, control: -1, model: -1, maxBytes: maxBytes}
	var err error
	if l.events, err = unix.Open(files.Events, unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0); err != nil {
		return nil, fmt.Errorf("opening the decision record %s: %w", files.Events, err)
	}
	var st unix.Stat_t
	if unix.Fstat(l.events, &st) == nil {
		l.size = st.Size
	}
	if l.status, err = unix.Open(files.Status, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0); err != nil {
		l.Close()
		return nil, fmt.Errorf("opening the status file %s: %w", files.Status, err)
	}
	if l.control, err = unix.Open(files.Control, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0); err != nil {
		l.Close()
		return nil, fmt.Errorf("opening the control channel %s: %w", files.Control, err)
	}
	if err := unix.Fstat(l.control, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		l.Close()
		return nil, fmt.Errorf("control channel %s is not a FIFO", files.Control)
	}
	if files.Model != "" {
		if l.model, err = unix.Open(files.Model, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0); err != nil {
			l.Close()
			return nil, fmt.Errorf("opening the model file %s: %w", files.Model, err)
		}
	}
	return l, nil
}

// maxModelBytes bounds the model file the sandbox reads (a model is at
// most some 500 KiB).
const maxModelBytes = 8 << 20

// ModelFile returns the model file's descriptor (-1: none) and what it
// holds now (the host's stored model, at start).
func (l *Link) ModelFile() (int, []byte, error) {
	if l.model < 0 {
		return -1, nil, nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(l.model, &st); err != nil {
		return -1, nil, fmt.Errorf("model file: %w", err)
	}
	if st.Size > maxModelBytes {
		return -1, nil, fmt.Errorf("model file of %d bytes, more than the %d a model takes", st.Size, maxModelBytes)
	}
	b := make([]byte, st.Size)
	for off := 0; off < len(b); {
		n, err := unix.Pread(l.model, b[off:], int64(off))
		if err != nil {
			return -1, nil, fmt.Errorf("reading the model file: %w", err)
		}
		if n == 0 {
			b = b[:off]
			break
		}
		off += n
	}
	return l.model, b, nil
}

// NoLink returns a link to nowhere, for a sandbox the host side made no
// link for: every record is counted as lost, and there is no control
// channel.
func NoLink() *Link {
	return &Link{events: -1, status: -1, control: -1, model: -1}
}

// Close closes the link's descriptors.
func (l *Link) Close() {
	for _, fd := range []*int{&l.events, &l.status, &l.control, &l.model} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// WriteRecords appends whole JSON lines (buf holds n of them) to the
// record. It never blocks on anything but the host file itself, and is
// called only by the drainer goroutine, never by the app's tasks.
func (l *Link) WriteRecords(buf []byte, n int) {
	if n == 0 {
		return
	}
	if lost := l.Lost.Load(); lost > l.lostLogged {
		// Say what was lost before what follows, once writing works.
		line := fmt.Appendf(nil, `{"type":"lost","time":%q,"records":%d}`+"\n", time.Now().UTC().Format(time.RFC3339Nano), lost-l.lostLogged)
		if l.write(line) {
			l.lostLogged = lost
		}
	}
	if l.write(buf) {
		l.Written.Add(uint64(n))
		return
	}
	l.Lost.Add(uint64(n))
}

// write appends b in one write(2), unless that would take the record past
// its bound. A short write (a full disk) leaves a
// cut line; it is ended with a newline so the next record starts clean,
// and readers skip the cut line.
func (l *Link) write(b []byte) bool {
	if l.size+int64(len(b)) > l.maxBytes {
		return false
	}
	n, err := unix.Write(l.events, b)
	if n > 0 {
		l.size += int64(n)
	}
	if err == nil && n == len(b) {
		return true
	}
	if n > 0 {
		if m, _ := unix.Write(l.events, []byte("\n")); m == 1 {
			l.size++
		}
	}
	return false
}

// Status is what the sandbox reports about itself in the status file.
type Status struct {
	Container    string `json:"container"`
	Updated      string `json:"updated"`
	Mode         string `json:"mode"`
	Policy       string `json:"policy"`
	PolicyDigest string `json:"policy_digest"`
	// Gate counters.
	Denied   uint64 `json:"denied"`
	Killed   uint64 `json:"killed"`
	Recorded uint64 `json:"recorded"`
	// Dropped counts records the full ring refused (the app was never
	// made to wait for the drainer).
	Dropped uint64 `json:"dropped"`
	// Written and Lost count records written to and lost on the way to
	// the host record.
	Written uint64 `json:"written"`
	Lost    uint64 `json:"lost"`
	// PolicyUpdates counts policies replaced live; PolicyRefused those
	// refused.
	PolicyUpdates uint64 `json:"policy_updates"`
	PolicyRefused uint64 `json:"policy_refused"`
	// Swarm is the state of the swarm's agents (nil when the swarm is
	// off).
	Swarm *SwarmStatus `json:"swarm,omitempty"`
}

// SwarmStatus is the swarm's part of the status file.
type SwarmStatus struct {
	// Degraded reports that an agent could not be kept running; Why says
	// which and in which direction the swarm degraded.
	Degraded bool          `json:"degraded"`
	Why      string        `json:"why,omitempty"`
	Agents   []AgentStatus `json:"agents"`
	Rings    []RingStatus  `json:"rings"`
	// Models are the sense-of-self models, one per container.
	Models []ModelStatus `json:"models"`
	// Decisions counts swarm decisions recorded; Actions the actions
	// carried out, by name (delay, deny, kill).
	Decisions uint64            `json:"decisions"`
	Actions   map[string]uint64 `json:"actions"`
	// Tasks is the number of tasks (threads) the swarm tracks; TaskBytes
	// the memory of their per-task state, all agents together.
	Tasks     int    `json:"tasks"`
	TaskBytes uint64 `json:"task_bytes"`
	// StateBytes estimates the swarm's whole state (models, tasks,
	// rings); HeapBytes is the sandbox's Go heap in use.
	StateBytes uint64 `json:"state_bytes"`
	HeapBytes  uint64 `json:"heap_bytes"`
	// Memory is the fault path's view (nil without one); Network the
	// packet path's.
	Memory  *MemoryStatus  `json:"memory,omitempty"`
	Network *NetworkStatus `json:"network,omitempty"`
	// Sched is the scheduler's view (nil: no scheduler).
	Sched *SchedStatus `json:"sched,omitempty"`
	// Heal is the healer agent's view (nil: no container runs athena
	// init, or none of its processes has exited yet).
	Heal *HealStatus `json:"heal,omitempty"`
}

// MemoryStatus describes the fault path and the memory agent.
type MemoryStatus struct {
	// Platform is the sandbox's platform; Faults says whether page
	// faults reach the swarm (only under an athena platform).
	Platform string `json:"platform"`
	Faults   bool   `json:"faults_watched"`
	// Counters since the sandbox started.
	FaultCount uint64 `json:"faults"`
	ExecFaults uint64 `json:"exec_faults"`
	WXRequests uint64 `json:"wx_requests"`
	// Usage is the latest resident bytes per container.
	Usage map[string]uint64 `json:"usage,omitempty"`
	// Recent are the latest faults, oldest first.
	Recent []FaultStatus `json:"recent_faults,omitempty"`
	// Containers is the memory agent's view of each container.
	Containers []MemoryAgentStatus `json:"containers,omitempty"`
}

// MemoryAgentStatus is the memory agent's view of one container.
type MemoryAgentStatus struct {
	Container string `json:"container"`
	Mode      string `json:"mode"`
	// ExecAnon counts executions of anonymous memory; WX the W+X
	// mapping requests; PeakRate the most faults a task took in one
	// second, against Threshold.
	ExecAnon  uint64 `json:"exec_anon"`
	WX        uint64 `json:"wx"`
	PeakRate  uint32 `json:"peak_fault_rate"`
	Threshold uint32 `json:"fault_rate_threshold"`
	// Budget is the resident-set budget (0: none); Over whether the
	// latest sample exceeded it; Kills the budget kills.
	Budget uint64 `json:"budget,omitempty"`
	Over   bool   `json:"over_budget,omitempty"`
	Kills  uint64 `json:"budget_kills,omitempty"`
}

// AgentStatus describes one supervised agent.
type AgentStatus struct {
	Name string `json:"name"`
	// State is running, restarting, stopped or failed; Policy fail-open
	// or fail-closed.
	State     string `json:"state"`
	Policy    string `json:"policy"`
	Mode      string `json:"mode,omitempty"`
	Restarts  uint64 `json:"restarts"`
	Panics    uint64 `json:"panics"`
	LastPanic string `json:"last_panic,omitempty"`
	Events    uint64 `json:"events"`
	Decisions uint64 `json:"decisions"`
}

// RingStatus gives one ring's counters.
type RingStatus struct {
	Name     string `json:"name"`
	Capacity int    `json:"capacity"`
	Len      int    `json:"len"`
	Pushed   uint64 `json:"pushed"`
	Dropped  uint64 `json:"dropped"`
	Drained  uint64 `json:"drained"`
}

// ModelStatus describes one container's sense-of-self model.
type ModelStatus struct {
	Container   string `json:"container"`
	Mode        string `json:"mode"`
	Why         string `json:"why,omitempty"`
	Windows     uint64 `json:"windows"`
	LastChange  uint64 `json:"last_change"`
	StableAfter uint64 `json:"stable_after"`
	Stable      bool   `json:"stable"`
	Pairs       int    `json:"pairs"`
	Syscalls    int    `json:"syscalls"`
	Bytes       int    `json:"bytes"`
	Tasks       int    `json:"tasks"`
	Anomalies   uint64 `json:"anomalies"`
}

// WriteStatus rewrites the status file in place. Errors are ignored: the
// status is advisory, and the next tick tries again.
func (l *Link) WriteStatus(s *Status) {
	b, err := json.Marshal(s)
	if err != nil {
		return
	}
	b = append(b, '\n')
	if n, err := unix.Pwrite(l.status, b, 0); err == nil && n == len(b) {
		unix.Ftruncate(l.status, int64(len(b)))
	}
}

// maxPolicyBytes bounds a policy sent over the control channel.
const maxPolicyBytes = 1 << 20

// controlMagic starts every control message:
//
//	athena-policy <length> <sha256 hex> <container> <quoted name>[ cpu=<shares>/<quota>/<period>]\n<length bytes of policy YAML>
//
// container is the ID of the container whose policy this is (the
// sandbox's root container or another container of the sandbox); the
// name (a Go-quoted string: the host's file name) is what status and
// errors call the policy.
//
// The host side checks the policy before sending it and holds a lock
// while it writes, so messages never interleave; the digest guards against
// a cut or garbled message all the same.
//
// The other message asks the swarm to accept a thread group's recent
// behaviour as normal (swarm tolerize):
//
//	athena-tolerize <container> <pid>\n
//
// and the last injects a fault into one of the swarm's agents (swarm
// inject), FAULT being agent-panic or agent-stop:
//
//	athena-inject <container> <fault> <agent>\n
const (
	controlMagic  = "athena-policy "
	tolerizeMagic = "athena-tolerize "
	injectMagic   = "athena-inject "
)

// Faults swarm inject knows.
const (
	FaultAgentPanic = "agent-panic"
	FaultAgentStop  = "agent-stop"
)

// EncodeInjectMessage frames a fault injection request.
func EncodeInjectMessage(container, fault, agent string) []byte {
	return fmt.Appendf(nil, "%s%s %s %s\n", injectMagic, container, fault, agent)
}

// EncodeTolerizeMessage frames a tolerize request.
func EncodeTolerizeMessage(container string, pid int32) []byte {
	return fmt.Appendf(nil, "%s%s %d\n", tolerizeMagic, container, pid)
}

// PolicyDigest returns the digest a control message carries for data.
func PolicyDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// EncodePolicyMessage frames data, the policy of container named name, as
// one control message, with the container's OCI CPU resources (for the
// scheduler) after the name when any is set.
func EncodePolicyMessage(container, name string, data []byte, cpu OCIResources) []byte {
	msg := fmt.Appendf(nil, "%s%d %s %s %s", controlMagic, len(data), PolicyDigest(data), container, strconv.Quote(name))
	if cpu != (OCIResources{}) {
		msg = fmt.Appendf(msg, " cpu=%s", cpu)
	}
	msg = append(msg, '\n')
	return append(msg, data...)
}

// errBadMessage reports a control message that does not parse; the reader
// resynchronizes at the next line.
var errBadMessage = errors.New("malformed control message")

// policyMessage is one control message.
type policyMessage struct {
	container, name, digest string
	data                    []byte
	// cpu is the container's OCI CPU resources (zero: none sent).
	cpu OCIResources
	// tolerize marks a tolerize request, of thread group pid.
	tolerize bool
	pid      int32
	// inject marks a fault injection request: fault into agent.
	inject       bool
	fault, agent string
}

// readPolicyMessage reads one control message from r. A message whose
// header parses but whose text does not match its digest is returned with
// its digest and an error, so that the refusal can name it.
func readPolicyMessage(r *lineReader) (policyMessage, error) {
	var m policyMessage
	header, err := r.line(4096)
	if err != nil {
		return m, err
	}
	if rest, ok := bytes.CutPrefix(header, []byte(tolerizeMagic)); ok {
		fields := bytes.Fields(rest)
		if len(fields) != 2 {
			return m, errBadMessage
		}
		pid, err := strconv.ParseInt(string(fields[1]), 10, 32)
		if err != nil || pid <= 0 {
			return m, errBadMessage
		}
		m.container, m.tolerize, m.pid = string(fields[0]), true, int32(pid)
		return m, nil
	}
	if rest, ok := bytes.CutPrefix(header, []byte(injectMagic)); ok {
		fields := bytes.Fields(rest)
		if len(fields) != 3 {
			return m, errBadMessage
		}
		m.container, m.inject, m.fault, m.agent = string(fields[0]), true, string(fields[1]), string(fields[2])
		return m, nil
	}
	rest, ok := bytes.CutPrefix(header, []byte(controlMagic))
	if !ok {
		return m, errBadMessage
	}
	fields := bytes.SplitN(rest, []byte(" "), 4)
	if len(fields) != 4 || len(fields[2]) == 0 {
		return m, errBadMessage
	}
	m.container = string(fields[2])
	quoted, err := strconv.QuotedPrefix(string(fields[3]))
	if err != nil {
		return m, errBadMessage
	}
	m.name, _ = strconv.Unquote(quoted)
	if extra := strings.TrimSpace(string(fields[3][len(quoted):])); extra != "" {
		v, ok := strings.CutPrefix(extra, "cpu=")
		if !ok {
			return m, errBadMessage
		}
		if m.cpu, err = ParseOCIResources(v); err != nil {
			return m, errBadMessage
		}
	}
	n, err := strconv.Atoi(string(fields[0]))
	if err != nil || n < 0 || n > maxPolicyBytes {
		return m, errBadMessage
	}
	m.data = make([]byte, n)
	if err := r.full(m.data); err != nil {
		return m, err
	}
	m.digest = string(fields[1])
	if PolicyDigest(m.data) != m.digest {
		return m, fmt.Errorf("policy digest mismatch (a cut or garbled message)")
	}
	return m, nil
}

// lineReader reads lines and exact byte counts from a blocking descriptor.
type lineReader struct {
	r   io.Reader
	buf []byte
}

func (lr *lineReader) fill() error {
	var tmp [4096]byte
	n, err := lr.r.Read(tmp[:])
	lr.buf = append(lr.buf, tmp[:n]...)
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// line returns the next line without its newline. A line longer than max
// is discarded up to its end and reported as errBadMessage.
func (lr *lineReader) line(max int) ([]byte, error) {
	for {
		if i := bytes.IndexByte(lr.buf, '\n'); i >= 0 {
			line := bytes.Clone(lr.buf[:i])
			lr.buf = lr.buf[i+1:]
			if i > max {
				return nil, errBadMessage
			}
			return line, nil
		}
		if len(lr.buf) > max {
			lr.buf = lr.buf[:0] // too long: drop, and keep looking for its end
			for {
				if err := lr.fill(); err != nil {
					return nil, err
				}
				if i := bytes.IndexByte(lr.buf, '\n'); i >= 0 {
					lr.buf = lr.buf[i+1:]
					return nil, errBadMessage
				}
				lr.buf = lr.buf[:0]
			}
		}
		if err := lr.fill(); err != nil {
			return nil, err
		}
	}
}

// full fills p.
func (lr *lineReader) full(p []byte) error {
	for len(lr.buf) < len(p) {
		if err := lr.fill(); err != nil {
			return err
		}
	}
	copy(p, lr.buf)
	lr.buf = lr.buf[len(p):]
	return nil
}

// fdReader reads a descriptor with raw read(2), retrying EINTR.
type fdReader int

func (fd fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(fd), p)
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		if err == nil && n == 0 {
			return 0, io.EOF
		}
		return n, err
	}
}
