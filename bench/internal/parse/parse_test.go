package parse

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestMicroLine(t *testing.T) {
	m, err := MicroLine(append([]byte("warning: something\n"), fixture(t, "micro.json")...))
	if err != nil {
		t.Fatal(err)
	}
	if m.Bench != "syscall_getppid" || m.Iters != 100000 || m.Batches != 5 || !near(m.NsPerOp, 11140.28) || !near(m.MaxNsPerOp, 13000.5) {
		t.Errorf("got %+v", m)
	}
	if m.P99NsPerOp != 0 {
		t.Errorf("no p99 printed: got %v", m.P99NsPerOp)
	}
	rr, err := MicroLine(fixture(t, "tcprr.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rr.Bench != "tcp_rr" || rr.Batches != 1 || !near(rr.NsPerOp, 20931) || !near(rr.P99NsPerOp, 91095) {
		t.Errorf("tcprr: got %+v", rr)
	}
	if _, err := MicroLine([]byte("sh: not found\n")); err == nil {
		t.Error("no result line: want error")
	}
	if _, err := MicroLine([]byte(`{"bench":"x","iters":0,"ns_per_op":0}`)); err == nil {
		t.Error("zero iterations: want error")
	}
}

func TestFio(t *testing.T) {
	r, err := Fio(fixture(t, "fio-randread.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.IOPS, 15251.748252) || !near(r.BandwidthMiBs, 62471160.0/(1<<20)) {
		t.Errorf("randread: got %+v", r)
	}
	w, err := Fio(append([]byte("fio: warning before json\n"), fixture(t, "fio-seqwrite.json")...))
	if err != nil {
		t.Fatal(err)
	}
	if w.BandwidthMiBs <= 0 {
		t.Errorf("seqwrite: got %+v", w)
	}
	if _, err := Fio([]byte("fio: command not found")); err == nil {
		t.Error("no JSON: want error")
	}
}

func TestIperf3(t *testing.T) {
	g, err := Iperf3Gbits(fixture(t, "iperf3.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !near(g, 13.001110726858023) {
		t.Errorf("got %v Gbit/s", g)
	}
	if _, err := Iperf3Gbits(fixture(t, "iperf3-reverse.json")); err != nil {
		t.Errorf("reverse: %v", err)
	}
	if _, err := Iperf3Gbits(fixture(t, "iperf3-error.json")); err == nil {
		t.Error("error document: want error")
	}
}

func TestRedisCSV(t *testing.T) {
	m, err := RedisCSV(fixture(t, "redis.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if m["SET"] != 16835.02 || m["GET"] != 11312.22 {
		t.Errorf("got %v", m)
	}
	// redis 6 prints no header line.
	m, err = RedisCSV([]byte("\"SET\",\"100.5\"\n"))
	if err != nil || m["SET"] != 100.5 {
		t.Errorf("headerless: got %v, %v", m, err)
	}
	if _, err := RedisCSV([]byte("Could not connect to Redis\n")); err == nil {
		t.Error("no results: want error")
	}
}

func TestSmapsRollup(t *testing.T) {
	s, err := SmapsRollup(fixture(t, "smaps_rollup.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := Smaps{Rss: 2152, Pss: 617, PssAnon: 160, PssShmem: 0, PssFile: 457, Breakdown: true}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
	old, err := SmapsRollup([]byte("Rss: 10 kB\nPss: 5 kB\n"))
	if err != nil || old.Breakdown || old.Pss != 5 {
		t.Errorf("kernel without Pss_*: got %+v, %v", old, err)
	}
	if _, err := SmapsRollup([]byte("Size: 1 kB\n")); err == nil {
		t.Error("no Rss/Pss: want error")
	}
}

func TestStatPPID(t *testing.T) {
	comm, ppid, err := StatPPID(fixture(t, "stat-simple.txt"))
	if err != nil || comm != "exe" || ppid != 3974 {
		t.Errorf("simple: got %q %d %v", comm, ppid, err)
	}
	comm, ppid, err = StatPPID(fixture(t, "stat-paren.txt"))
	if err != nil || comm != "a b) c" || ppid != 12 {
		t.Errorf("parenthesised name: got %q %d %v", comm, ppid, err)
	}
}

func TestRedisLatency(t *testing.T) {
	m, err := RedisLatency(fixture(t, "redis.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := RedisRow{RPS: 11312.22, AvgMs: 1.555, MinMs: 0.048, P50Ms: 1.423, P95Ms: 3.135, P99Ms: 10.895, MaxMs: 41.375}
	if m["GET"] != want {
		t.Errorf("GET: got %+v, want %+v", m["GET"], want)
	}
	if _, err := RedisLatency([]byte("\"SET\",\"100.5\"\n")); err == nil {
		t.Error("redis 6 output without latency columns: want error")
	}
	if _, err := RedisLatency([]byte("\"test\",\"rps\"\n\"GET\",\"100.5\"\n")); err == nil {
		t.Error("header without latency columns: want error")
	}
}

func TestSpinLine(t *testing.T) {
	s, err := SpinLine(append([]byte("warning\n"), fixture(t, "spin.json")...))
	if err != nil {
		t.Fatal(err)
	}
	if s.Procs != 2 || s.Seconds != 5 || s.Iters != 17307795456 || !near(s.ItersPerS, 3451057180) || !near(s.CPUSeconds, 7.74) || !near(s.WallS, 5.015) {
		t.Errorf("got %+v", s)
	}
	if _, err := SpinLine([]byte("spin: fork: Resource temporarily unavailable\n")); err == nil {
		t.Error("no result line: want error")
	}
}

func TestProcCgroup(t *testing.T) {
	es, err := ProcCgroup(fixture(t, "cgroup-v1-gvisor.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 10 {
		t.Fatalf("got %d entries", len(es))
	}
	if e := es[7]; e.ID != 2 || len(e.Controllers) != 1 || e.Controllers[0] != "cpuacct" ||
		e.Path != "/docker/d3b96540311f547bd73a3e352345f1a374652cd759eea4805091862540e94468" {
		t.Errorf("cpuacct line: got %+v", e)
	}
	if e := es[9]; e.ID != 0 || len(e.Controllers) != 0 || e.Path != "/" {
		t.Errorf("v2 line: got %+v", e)
	}
	if es, err := ProcCgroup([]byte("4:cpu,cpuacct:/a:b\n")); err != nil || es[0].Path != "/a:b" || len(es[0].Controllers) != 2 {
		t.Errorf("joint controllers, colon in path: got %+v, %v", es, err)
	}
	if _, err := ProcCgroup([]byte("garbage\n")); err == nil {
		t.Error("malformed: want error")
	}
}

func TestCgroupMounts(t *testing.T) {
	ms, err := CgroupMounts(fixture(t, "mountinfo-v1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var acct *CgroupMount
	for i := range ms {
		for _, o := range ms[i].Options {
			if o == "cpuacct" {
				acct = &ms[i]
			}
		}
	}
	if len(ms) != 10 || acct == nil || acct.Point != "/sys/fs/cgroup/cpuacct" || acct.Root != "/" || acct.V2 {
		t.Errorf("v1: got %d mounts, cpuacct %+v", len(ms), acct)
	}
	ms, err = CgroupMounts(fixture(t, "mountinfo-v2.txt"))
	if err != nil || len(ms) != 1 || !ms[0].V2 || ms[0].Point != "/sys/fs/cgroup" {
		t.Errorf("v2: got %+v, %v", ms, err)
	}
	ms, err = CgroupMounts([]byte("40 31 0:37 /docker /mnt/cg\\040x rw shared:2 master:1 - cgroup cgroup rw,cpu,cpuacct\n"))
	if err != nil || len(ms) != 1 || ms[0].Root != "/docker" || ms[0].Point != "/mnt/cg x" || len(ms[0].Options) != 3 {
		t.Errorf("optional fields, escaped space: got %+v, %v", ms, err)
	}
	if _, err := CgroupMounts([]byte("24 1 0:22 / / rw - ext4 /dev/sda1 rw\n")); err == nil {
		t.Error("no cgroup mount: want error")
	}
}

func TestCPUStatUsageUsec(t *testing.T) {
	if v, err := CPUStatUsageUsec(fixture(t, "cpu.stat")); err != nil || v != 123456789 {
		t.Errorf("got %v, %v", v, err)
	}
	if _, err := CPUStatUsageUsec([]byte("nr_periods 1\n")); err == nil {
		t.Error("no usage_usec: want error")
	}
}
