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
