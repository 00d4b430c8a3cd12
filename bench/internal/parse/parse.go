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

// MicroLine reads the last JSON object line of out: the programs print one
// result line, and anything before it (a warning) is not the result.
func MicroLine(out []byte) (Micro, error) {
	var last []byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 && l[0] == '{' {
			last = append(last[:0], l...)
		}
	}
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
