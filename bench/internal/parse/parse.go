package parse

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/athenaos/athena/internal/mountinfo"
)

// Micro is one line printed by the C micro-benchmarks (bench/src).
type Micro struct {
	Bench   string `json:"bench"`
	Iters   int64  `json:"iters"`
	Batches int    `json:"batches"`
	TotalNs int64  `json:"total_ns"`
	// NsPerOp is the median of the per-batch costs; Min and Max bound them.
	NsPerOp    float64 `json:"ns_per_op"`
	MinNsPerOp float64 `json:"min_ns_per_op"`
	MaxNsPerOp float64 `json:"max_ns_per_op"`
	// P99NsPerOp is the 99th percentile of single operations, printed by
	// the programs that time each operation on its own (tcprr); 0 when
	// absent.
	P99NsPerOp float64 `json:"p99_ns_per_op"`
}

// lastJSONLine returns the last line of out that is a JSON object (nil:
// none).
func lastJSONLine(out []byte) []byte {
	var last []byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 && l[0] == '{' {
			last = append(last[:0], l...)
		}
	}
	return last
}

// MicroLine reads the last JSON object line of out: the programs print one
// result line, and anything before it (a warning) is not the result.
func MicroLine(out []byte) (Micro, error) {
	last := lastJSONLine(out)
	if last == nil {
		return Micro{}, fmt.Errorf("no result line in %q", truncate(out))
	}
	var m Micro
	if err := json.Unmarshal(last, &m); err != nil {
		return Micro{}, fmt.Errorf("result line %q: %w", last, err)
	}
	if m.Iters <= 0 || m.NsPerOp <= 0 {
		return Micro{}, fmt.Errorf("result line %q: no iterations or time", last)
	}
	return m, nil
}

// FioResult is the part of one fio job's result the report uses.
type FioResult struct {
	// BandwidthMiBs is bytes per second / 2^20, read plus write.
	BandwidthMiBs float64
	IOPS          float64
}

// Fio reads fio --output-format=json and sums read and write of its first
// job (the driver runs one job per invocation, so only one direction is
// non-zero). fio may print warnings before the JSON, so parsing starts at
// the first '{'.
func Fio(out []byte) (FioResult, error) {
	i := bytes.IndexByte(out, '{')
	if i < 0 {
		return FioResult{}, fmt.Errorf("fio: no JSON in %q", truncate(out))
	}
	type dir struct {
		BwBytes float64 `json:"bw_bytes"`
		IOPS    float64 `json:"iops"`
	}
	var doc struct {
		Jobs []struct {
			Error int `json:"error"`
			Read  dir `json:"read"`
			Write dir `json:"write"`
		} `json:"jobs"`
	}
	if err := json.NewDecoder(bytes.NewReader(out[i:])).Decode(&doc); err != nil {
		return FioResult{}, fmt.Errorf("fio: %w", err)
	}
	if len(doc.Jobs) == 0 {
		return FioResult{}, errors.New("fio: no jobs in output")
	}
	j := doc.Jobs[0]
	if j.Error != 0 {
		return FioResult{}, fmt.Errorf("fio: job error %d", j.Error)
	}
	r := FioResult{
		BandwidthMiBs: (j.Read.BwBytes + j.Write.BwBytes) / (1 << 20),
		IOPS:          j.Read.IOPS + j.Write.IOPS,
	}
	if r.BandwidthMiBs <= 0 {
		return FioResult{}, errors.New("fio: zero bandwidth")
	}
	return r, nil
}

// Iperf3Gbits reads iperf3 -J output and returns the receiver's throughput
// in Gbit/s (what arrived, not what the sender pushed into its buffer).
func Iperf3Gbits(out []byte) (float64, error) {
	i := bytes.IndexByte(out, '{')
	if i < 0 {
		return 0, fmt.Errorf("iperf3: no JSON in %q", truncate(out))
	}
	var doc struct {
		Error string `json:"error"`
		End   struct {
			SumReceived *struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.NewDecoder(bytes.NewReader(out[i:])).Decode(&doc); err != nil {
		return 0, fmt.Errorf("iperf3: %w", err)
	}
	if doc.Error != "" {
		return 0, fmt.Errorf("iperf3: %s", doc.Error)
	}
	if doc.End.SumReceived == nil || doc.End.SumReceived.BitsPerSecond <= 0 {
		return 0, errors.New("iperf3: no received throughput in output")
	}
	return doc.End.SumReceived.BitsPerSecond / 1e9, nil
}

// RedisCSV reads redis-benchmark --csv output into test name (upper case,
// as redis prints it: "SET", "GET") -> requests per second.
func RedisCSV(out []byte) (map[string]float64, error) {
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark csv: %w", err)
	}
	col := 1 // redis 6 prints no header: "test","rps"
	res := map[string]float64{}
	for _, row := range rows {
		if len(row) < 2 {
			continue
		}
		if row[0] == "test" {
			for i, h := range row {
				if h == "rps" {
					col = i
				}
			}
			continue
		}
		if col >= len(row) {
			continue
		}
		v, err := strconv.ParseFloat(row[col], 64)
		if err != nil {
			return nil, fmt.Errorf("redis-benchmark csv: %q: %w", row, err)
		}
		res[row[0]] = v
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("redis-benchmark csv: no results in %q", truncate(out))
	}
	return res, nil
}

// RedisRow is one test's line of redis-benchmark 7 --csv output: requests
// per second and the latency summary, in ms.
type RedisRow struct {
	RPS                                      float64
	AvgMs, MinMs, P50Ms, P95Ms, P99Ms, MaxMs float64
}

// RedisLatency reads redis-benchmark --csv output with its header line
// (redis 7: "test","rps","avg_latency_ms",...,"max_latency_ms") into test
// name -> row. Unlike RedisCSV it needs the latency columns, so output
// without them (redis 6) is an error.
func RedisLatency(out []byte) (map[string]RedisRow, error) {
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark csv: %w", err)
	}
	cols := map[string]int{}
	res := map[string]RedisRow{}
	for _, row := range rows {
		if len(row) > 0 && row[0] == "test" {
			for i, h := range row {
				cols[h] = i
			}
			continue
		}
		if len(cols) == 0 || len(row) < len(cols) {
			continue
		}
		var r RedisRow
		for name, dst := range map[string]*float64{
			"rps": &r.RPS, "avg_latency_ms": &r.AvgMs, "min_latency_ms": &r.MinMs,
			"p50_latency_ms": &r.P50Ms, "p95_latency_ms": &r.P95Ms, "p99_latency_ms": &r.P99Ms,
			"max_latency_ms": &r.MaxMs,
		} {
			i, ok := cols[name]
			if !ok {
				return nil, fmt.Errorf("redis-benchmark csv: no %s column (redis-benchmark 7 or later needed)", name)
			}
			v, err := strconv.ParseFloat(row[i], 64)
			if err != nil {
				return nil, fmt.Errorf("redis-benchmark csv: %q: %w", row, err)
			}
			*dst = v
		}
		if r.RPS <= 0 {
			return nil, fmt.Errorf("redis-benchmark csv: no throughput in %q", row)
		}
		res[row[0]] = r
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("redis-benchmark csv: no results in %q", truncate(out))
	}
	return res, nil
}

// Spin is the line bench/src/spin.c prints.
type Spin struct {
	Procs     int     `json:"procs"`
	Seconds   int     `json:"seconds"`
	Iters     int64   `json:"iters"`
	ItersPerS float64 `json:"iters_per_s"`
	// CPUSeconds is the hogs' CPU time as the kernel they ran on (the host
	// kernel or gVisor's Sentry) accounted it.
	CPUSeconds float64 `json:"cpu_s"`
	WallS      float64 `json:"wall_s"`
}

// SpinLine reads the last JSON object line of spin's output.
func SpinLine(out []byte) (Spin, error) {
	last := lastJSONLine(out)
	if last == nil {
		return Spin{}, fmt.Errorf("spin: no result line in %q", truncate(out))
	}
	var s Spin
	if err := json.Unmarshal(last, &s); err != nil {
		return Spin{}, fmt.Errorf("spin: result line %q: %w", last, err)
	}
	if s.Iters <= 0 || s.ItersPerS <= 0 || s.WallS <= 0 {
		return Spin{}, fmt.Errorf("spin: result line %q: no iterations or time", last)
	}
	return s, nil
}

// CgroupEntry is one line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH".
// Cgroup v2's line has ID 0 and no controllers.
type CgroupEntry struct {
	ID          int
	Controllers []string
	Path        string
}

// ProcCgroup reads /proc/PID/cgroup.
func ProcCgroup(data []byte) ([]CgroupEntry, error) {
	var out []CgroupEntry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("cgroup: malformed line %q", line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("cgroup: malformed line %q", line)
		}
		var ctrls []string
		if f[1] != "" {
			ctrls = strings.Split(f[1], ",")
		}
		out = append(out, CgroupEntry{ID: id, Controllers: ctrls, Path: f[2]})
	}
	if len(out) == 0 {
		return nil, errors.New("cgroup: empty")
	}
	return out, nil
}

// CgroupMount is a cgroup file system mounted on the host, from
// /proc/self/mountinfo: Root is the cgroup the mount shows at Point.
type CgroupMount struct {
	Root, Point string
	// V2 is true for cgroup2; for v1, Options holds the super options,
	// among them the controllers ("cpu", "cpuacct", "name=systemd").
	V2      bool
	Options []string
}

// CgroupMounts reads the cgroup and cgroup2 mounts from mountinfo lines:
// "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".
func CgroupMounts(data []byte) ([]CgroupMount, error) {
	var out []CgroupMount
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(f) {
			continue
		}
		fstype := f[sep+1]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		m := CgroupMount{Root: mountinfo.Unescape(f[3]), Point: mountinfo.Unescape(f[4]), V2: fstype == "cgroup2"}
		if sep+3 < len(f) {
			m.Options = strings.Split(f[sep+3], ",")
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("mountinfo: no cgroup file system mounted")
	}
	return out, nil
}

// CPUStatUsageUsec reads usage_usec from a cgroup v2 cpu.stat file.
func CPUStatUsageUsec(data []byte) (int64, error) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "usage_usec" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, errors.New("cpu.stat: no usage_usec")
}

// Smaps is the part of /proc/PID/smaps_rollup the memory benchmark uses,
// in KiB.
type Smaps struct {
	Rss, Pss int64
	// PssAnon + PssShmem is memory the process allocated itself (heap,
	// stacks, gVisor's memory file), as opposed to PssFile, the share of
	// mapped files such as the executable, which every other process
	// mapping the same file lowers.
	PssAnon, PssShmem, PssFile int64
	// Breakdown is false on kernels without the Pss_* lines (before 5.x).
	Breakdown bool
}

// SmapsRollup reads /proc/PID/smaps_rollup.
func SmapsRollup(data []byte) (Smaps, error) {
	var s Smaps
	fields := map[string]*int64{
		"Rss:": &s.Rss, "Pss:": &s.Pss,
		"Pss_Anon:": &s.PssAnon, "Pss_Shmem:": &s.PssShmem, "Pss_File:": &s.PssFile,
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		dst, ok := fields[f[0]]
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return Smaps{}, fmt.Errorf("smaps_rollup: %q: %w", sc.Text(), err)
		}
		*dst = v
		seen[f[0]] = true
	}
	if !seen["Rss:"] || !seen["Pss:"] {
		return Smaps{}, errors.New("smaps_rollup: no Rss or Pss line")
	}
	s.Breakdown = seen["Pss_Anon:"] && seen["Pss_Shmem:"] && seen["Pss_File:"]
	return s, nil
}

// StatPPID reads the parent pid and command name from /proc/PID/stat. The
// name is in parentheses and may itself contain ") ", so the fields are
// taken after the last ')'.
func StatPPID(data []byte) (comm string, ppid int, err error) {
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0, fmt.Errorf("stat: malformed %q", truncate(data))
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 2 {
		return "", 0, fmt.Errorf("stat: malformed %q", truncate(data))
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return "", 0, fmt.Errorf("stat: ppid %q: %w", f[1], err)
	}
	return s[open+1 : end], ppid, nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
