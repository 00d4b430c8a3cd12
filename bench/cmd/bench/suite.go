package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/athenaos/athena/bench/internal/parse"
	"github.com/athenaos/athena/bench/internal/result"
)

const (
	busyboxImage = "athena-test/busybox"
	debianImage  = "athena-test/debian"
)

// sizes are the knobs that differ between -quick and a full run.
type sizes struct {
	reps          int
	getppid, read int
	openclose     int
	stat          int
	touchPages    int
	touchRounds   int
	churn         int
	forks         int
	startsPerRep  int
	fioSize       string
	fioSeconds    int
	iperfSeconds  int
	roundTrips    int // tcprr rr: round trips on one connection
	connections   int // tcprr crr: new connections
	redisRequests int

	// The scheduler groups (sched.go) take part in the first schedReps
	// repetitions only: they are long, and the run should stay short.
	schedReps       int
	nnWarmup        int // redis-benchmark requests before measuring
	nnIdleRequests  int // requests of the unloaded reference run
	nnRequests      int // requests of the run next to the hogs
	nnSpinSeconds   int // how long the hogs run (covers the loaded run)
	cpusWindow      int // seconds over which the cgroup's CPU use is sampled
	forkbombSeconds int // seconds of docker exec probes once a second
}

var (
	quickSizes = sizes{
		reps: 2, getppid: 20000, read: 20000, openclose: 5000, stat: 10000,
		touchPages: 2048, touchRounds: 5, churn: 2000, forks: 50, startsPerRep: 2,
		fioSize: "16m", fioSeconds: 2, iperfSeconds: 2, roundTrips: 5000, connections: 500, redisRequests: 20000,
		schedReps: 1, nnWarmup: 10000, nnIdleRequests: 5000, nnRequests: 6000, nnSpinSeconds: 10,
		cpusWindow: 3, forkbombSeconds: 6,
	}
	fullSizes = sizes{
		reps: 5, getppid: 200000, read: 200000, openclose: 20000, stat: 50000,
		touchPages: 4096, touchRounds: 10, churn: 10000, forks: 200, startsPerRep: 10,
		fioSize: "64m", fioSeconds: 4, iperfSeconds: 4, roundTrips: 10000, connections: 2000, redisRequests: 100000,
		schedReps: 2, nnWarmup: 20000, nnIdleRequests: 5000, nnRequests: 32000, nnSpinSeconds: 24,
		cpusWindow: 4, forkbombSeconds: 10,
	}
)

// target is one runtime's side of the comparison: its long-lived work
// container and the loopback ports that container publishes.
type target struct {
	runtime   string
	work      string // container name
	dataDir   string // host directory bind-mounted at /data
	iperfAddr string // 127.0.0.1:PORT published for the container's iperf3 server
	redisAddr string // 127.0.0.1:PORT published for the container's redis
	tcprrAddr string // 127.0.0.1:PORT published for the container's tcprr server
	tcprrHost string // host path of the tcprr client (bench/bin/tcprr)
	binDir    string // host directory of the micro-benchmarks, mounted at /bench
}

// tcprrPort is the port the tcprr server listens on inside each work
// container.
const tcprrPort = "7000"

// phase says which containers exist while a job runs. Start-up and idle
// memory run while no work container is up, so neither competes with idle
// sandboxes nor shares pages with them (which would skew PSS).
type phase int

const (
	phaseBare phase = iota // no work containers
	phaseWork              // work containers up
)

// job measures one or more metrics with one action per runtime.
type job struct {
	metrics []result.Benchmark // descriptions only; samples are added by the driver
	quick   bool               // part of the -quick subset
	phase   phase
	perRep  int // samples per runtime per repetition (default 1)
	reps    int // takes part in the first reps repetitions only (0: all)
	run     func(ctx context.Context, t *target) ([]float64, error)
}

func metric(group, name, unit string, higher bool, desc string) result.Benchmark {
	return result.Benchmark{Group: group, Name: name, Unit: unit, HigherIsBetter: higher, Desc: desc}
}

// infoMetric is a figure with no better direction, reported for context.
func infoMetric(group, name, unit, desc string) result.Benchmark {
	return result.Benchmark{Group: group, Name: name, Unit: unit, Info: true, Desc: desc}
}

// jobs lists the suite, in the order the report shows it.
func jobs(s sizes) []job {
	var js []job
	micro := func(name, unit, desc string, quick bool, scale float64, args ...string) {
		js = append(js, job{
			metrics: []result.Benchmark{metric("micro-benchmarks (C, timed inside the container)", name, unit, false, desc)},
			quick:   quick,
			phase:   phaseWork,
			run: func(ctx context.Context, t *target) ([]float64, error) {
				out, err := docker(ctx, 3*time.Minute, append([]string{"exec", t.work}, args...)...)
				if err != nil {
					return nil, err
				}
				m, err := parse.MicroLine(out)
				if err != nil {
					return nil, err
				}
				return []float64{m.NsPerOp / scale}, nil
			},
		})
	}
	n := strconv.Itoa
	micro("syscall_getppid", "ns/op", fmt.Sprintf("`getppid()` through glibc's wrapper, %d calls: the bare cost of entering and leaving the kernel (for gVisor: the Sentry) as most C programs make a system call.", s.getppid),
		true, 1, "/bench/syscall", "getppid", n(s.getppid))
	micro("syscall_getppid_raw", "ns/op", fmt.Sprintf("`syscall(SYS_getppid)`, %d calls: the same call through the generic wrapper. gVisor's systrap rewrites only `mov $NR,%%eax; syscall` sequences (as in libc's wrappers) into a jump to its fast path; this wrapper loads the number from a register, so it always traps.", s.getppid),
		true, 1, "/bench/syscall", "getppid_raw", n(s.getppid))
	micro("syscall_read", "ns/op", fmt.Sprintf("`pread` of 1 byte at offset 0 of a 4 KiB file in the container's root file system (/tmp), %d calls: a cached read.", s.read),
		true, 1, "/bench/syscall", "read", n(s.read))
	micro("syscall_openclose", "ns/op", fmt.Sprintf("`open(O_RDONLY)` + `close` of that file, %d times: path walk and file-descriptor setup.", s.openclose),
		true, 1, "/bench/syscall", "openclose", n(s.openclose))
	micro("syscall_stat", "ns/op", fmt.Sprintf("`stat` of that file, %d times.", s.stat),
		true, 1, "/bench/syscall", "stat", n(s.stat))
	micro("pagefault_touch", "ns/page", fmt.Sprintf("write one byte to each of %d fresh anonymous pages (one fault each), %d rounds of mmap/touch/munmap; only the touching is timed.", s.touchPages, s.touchRounds),
		true, 1, "/bench/pagefault", "touch", n(s.touchPages), n(s.touchRounds))
	micro("mmap_churn", "ns/cycle", fmt.Sprintf("mmap 16 pages, write the first, munmap, %d times.", s.churn),
		true, 1, "/bench/pagefault", "churn", n(s.churn))
	micro("fork_exec_wait", "µs", fmt.Sprintf("fork + execve of a tiny static program + waitpid, %d times.", s.forks),
		true, 1000, "/bench/forkexec", "exec", n(s.forks))
	micro("fork_wait", "µs", fmt.Sprintf("fork + child `_exit` + waitpid, %d times (the fork part of the above).", s.forks),
		false, 1000, "/bench/forkexec", "fork", n(s.forks))

	start := func(image, name string, quick bool) {
		js = append(js, job{
			metrics: []result.Benchmark{metric("container start", name, "ms", false,
				fmt.Sprintf("wall time of `docker run --rm --runtime=RT %s true` on the host, CLI to exit; %d sample(s) per repetition.", image, s.startsPerRep))},
			quick:  quick,
			phase:  phaseBare,
			perRep: s.startsPerRep,
			run: func(ctx context.Context, t *target) ([]float64, error) {
				cname := "bench-start-" + t.runtime
				t0 := time.Now()
				_, err := docker(ctx, 2*time.Minute, "run", "--rm", "--name", cname, "--runtime="+t.runtime, image, "true")
				d := time.Since(t0)
				if err != nil {
					removeContainer(context.WithoutCancel(ctx), cname)
					return nil, err
				}
				return []float64{float64(d) / float64(time.Millisecond)}, nil
			},
		})
	}
	start(busyboxImage, "start_busybox", true)
	start(debianImage, "start_debian", false)

	fio := func(where, dir, name, rw, bs string, quick bool) {
		unit, what := "MiB/s", "bandwidth"
		seq := strings.HasPrefix(name, "seq")
		if !seq {
			unit, what = "IOPS", "operations per second"
		}
		desc := fmt.Sprintf("fio `--rw=%s --bs=%s --size=%s --runtime=%ds --time_based --ioengine=psync --invalidate=0`, one job, in %s; %s.",
			rw, bs, s.fioSize, s.fioSeconds, where, what)
		js = append(js, job{
			metrics: []result.Benchmark{metric("file I/O (fio)", "fio_"+name, unit, true, desc)},
			quick:   quick,
			phase:   phaseWork,
			run: func(ctx context.Context, t *target) ([]float64, error) {
				out, err := docker(ctx, time.Duration(s.fioSeconds)*time.Second+3*time.Minute,
					"exec", t.work, "fio", "--name="+name, "--directory="+dir, "--filename=fio-"+name,
					"--rw="+rw, "--bs="+bs, "--size="+s.fioSize, "--runtime="+n(s.fioSeconds), "--time_based",
					"--ioengine=psync", "--invalidate=0", "--unlink=1", "--output-format=json")
				if err != nil {
					return nil, err
				}
				r, err := parse.Fio(out)
				if err != nil {
					return nil, err
				}
				if seq {
					return []float64{r.BandwidthMiBs}, nil
				}
				return []float64{r.IOPS}, nil
			},
		})
	}
	rootfs := "the container's root file system (/var/tmp)"
	bind := "a bind mount of a host directory (/data)"
	fio(rootfs, "/var/tmp", "seqread_rootfs", "read", "1m", false)
	fio(rootfs, "/var/tmp", "seqwrite_rootfs", "write", "1m", true)
	fio(rootfs, "/var/tmp", "randread_rootfs", "randread", "4k", true)
	fio(rootfs, "/var/tmp", "randwrite_rootfs", "randwrite", "4k", false)
	fio(bind, "/data", "seqread_bind", "read", "1m", false)
	fio(bind, "/data", "seqwrite_bind", "write", "1m", true)
	fio(bind, "/data", "randread_bind", "randread", "4k", true)
	fio(bind, "/data", "randwrite_bind", "randwrite", "4k", false)

	iperfArgs := []string{"-t", n(s.iperfSeconds), "-J", "--connect-timeout", "5000"}
	iperfTimeout := time.Duration(s.iperfSeconds)*time.Second + time.Minute
	js = append(js, job{
		metrics: []result.Benchmark{metric("network (iperf3, TCP)", "iperf3_loopback", "Gbit/s", true,
			fmt.Sprintf("iperf3 client and server in the same container over 127.0.0.1, %d s: the runtime's own network stack (gVisor: netstack).", s.iperfSeconds))},
		quick: true,
		phase: phaseWork,
		run: func(ctx context.Context, t *target) ([]float64, error) {
			out, err := docker(ctx, iperfTimeout, append([]string{"exec", t.work, "iperf3", "-c", "127.0.0.1"}, iperfArgs...)...)
			return iperfResult(ctx, t, out, err)
		},
	})
	hostIperf := func(name string, quick bool, desc string, extra ...string) {
		js = append(js, job{
			metrics: []result.Benchmark{metric("network (iperf3, TCP)", name, "Gbit/s", true, desc)},
			quick:   quick,
			phase:   phaseWork,
			run: func(ctx context.Context, t *target) ([]float64, error) {
				host, port, _ := strings.Cut(t.iperfAddr, ":")
				args := append([]string{"-c", host, "-p", port}, iperfArgs...)
				out, err := command(ctx, iperfTimeout, "iperf3", append(args, extra...)...)
				return iperfResult(ctx, t, out, err)
			},
		})
	}
	hostIperf("iperf3_host_to_container", true,
		fmt.Sprintf("iperf3 client on the host sending to the server in the container through the port published on 127.0.0.1, %d s.", s.iperfSeconds))
	hostIperf("iperf3_container_to_host", false,
		fmt.Sprintf("as above with `-R`: the container sends, the host receives, %d s.", s.iperfSeconds), "-R")

	// Latency: bench/bin/tcprr against the tcprr server in the work
	// container, the client either in the same container or on the host.
	// The client times every round trip (or connection) itself, so docker
	// exec and process start are not in the figure.
	const latGroup = "network latency (tcprr, TCP)"
	latency := func(mode string, count int, fromHost bool, ms ...result.Benchmark) {
		js = append(js, job{
			metrics: ms,
			quick:   true,
			phase:   phaseWork,
			run: func(ctx context.Context, t *target) ([]float64, error) {
				var out []byte
				var err error
				if fromHost {
					host, port, _ := strings.Cut(t.tcprrAddr, ":")
					out, err = command(ctx, 3*time.Minute, t.tcprrHost, mode, host, port, n(count))
				} else {
					out, err = docker(ctx, 3*time.Minute, "exec", t.work, "/bench/tcprr", mode, "127.0.0.1", tcprrPort, n(count))
				}
				return tcprrResult(ctx, t, out, err, len(ms))
			},
		})
	}
	rrHow := fmt.Sprintf("one connection with TCP_NODELAY, %d round trips of 1 byte each way, each timed on its own by the client (after an untimed warm-up)", s.roundTrips)
	latency("rr", s.roundTrips, false,
		metric(latGroup, "tcp_rr_loopback", "µs", false,
			"`tcprr rr`: client and server in the same container over 127.0.0.1, "+rrHow+"; the median round trip. The runtime's own network stack (gVisor: netstack) and the wake-ups of a blocked reader, with next to no data to copy."),
		metric(latGroup, "tcp_rr_loopback_p99", "µs", false,
			"as above, the 99th-percentile round trip of the same run: the tail."))
	latency("rr", s.roundTrips, true,
		metric(latGroup, "tcp_rr_host_to_container", "µs", false,
			"`tcprr rr` from the host (bench/bin/tcprr) to the server in the container through the port published on 127.0.0.1 (the iperf3 host tests' path), "+rrHow+"; the median round trip."),
		metric(latGroup, "tcp_rr_host_to_container_p99", "µs", false,
			"as above, the 99th-percentile round trip of the same run."))
	crrHow := fmt.Sprintf("%d times: connect, send 1 byte, receive it, receive the server's FIN, close (the server closes first, so it holds TIME_WAIT), each timed on its own by the client after an untimed warm-up", s.connections)
	latency("crr", s.connections, false,
		metric(latGroup, "tcp_crr_loopback", "µs", false,
			"`tcprr crr`: client and server in the same container over 127.0.0.1, "+crrHow+"; the median connection. Handshake, accept, one round trip and teardown: what every new flow costs (1e6 / this = connections per second, one at a time)."))
	latency("crr", s.connections, true,
		metric(latGroup, "tcp_crr_host_to_container", "µs", false,
			"`tcprr crr` from the host to the server in the container through the published port, "+crrHow+"; the median connection (docker-proxy opens a new connection into the container for each)."))

	js = append(js, job{
		metrics: []result.Benchmark{
			metric("real server (redis)", "redis_set", "req/s", true,
				fmt.Sprintf("redis-server in the container; `redis-benchmark -n %d -c 50 -t set` on the host against the port published on 127.0.0.1.", s.redisRequests)),
			metric("real server (redis)", "redis_get", "req/s", true,
				fmt.Sprintf("as above, `-t get` (same invocation, %d requests).", s.redisRequests)),
		},
		quick: true,
		phase: phaseWork,
		run: func(ctx context.Context, t *target) ([]float64, error) {
			host, port, _ := strings.Cut(t.redisAddr, ":")
			out, err := command(ctx, 5*time.Minute, "redis-benchmark", "-h", host, "-p", port,
				"-n", n(s.redisRequests), "-c", "50", "-t", "set,get", "--csv")
			if err != nil {
				return nil, err
			}
			m, err := parse.RedisCSV(out)
			if err != nil {
				return nil, err
			}
			set, okS := m["SET"]
			get, okG := m["GET"]
			if !okS || !okG {
				return nil, fmt.Errorf("redis-benchmark: SET or GET missing in %v", m)
			}
			return []float64{set, get}, nil
		},
	})

	js = append(js, job{
		metrics: []result.Benchmark{
			metric("memory (idle container)", "mem_idle_anon", "MiB", false,
				"anonymous + shared-memory PSS (`Pss_Anon` + `Pss_Shmem` of smaps_rollup) summed over the host processes serving an idle `sleep infinity` container of "+debianImage+": shim + container processes (runc), shim + sandbox + gofer (gVisor); the memory the container itself costs, see Method."),
			metric("memory (idle container)", "mem_idle_rss", "MiB", false,
				"as above, resident set size (RSS) including mapped executables: pages shared between those processes count once per process, so this is the upper bound."),
		},
		quick: true,
		phase: phaseBare,
		run: func(ctx context.Context, t *target) ([]float64, error) {
			cname := "bench-mem-" + t.runtime
			defer removeContainer(context.WithoutCancel(ctx), cname)
			if _, err := docker(ctx, 2*time.Minute, "run", "-d", "--name", cname, "--runtime="+t.runtime, debianImage, "sleep", "infinity"); err != nil {
				return nil, err
			}
			// Let start-up work (page-ins, the runtime's own settling) end
			// before measuring what the container costs while idle.
			select {
			case <-time.After(3 * time.Second):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			rss, own, _, err := containerMemory(ctx, cname)
			if err != nil {
				return nil, err
			}
			return []float64{own, rss}, nil
		},
	})
	return append(js, schedJobs(s)...)
}

// tcprrResult parses a tcprr client's line into the median and, when two
// metrics are wanted, the 99th percentile, in µs. On failure it restarts
// the container's tcprr server (and kills a hung in-container client).
func tcprrResult(ctx context.Context, t *target, out []byte, runErr error, metrics int) ([]float64, error) {
	m, err := parse.MicroLine(out)
	if err == nil && runErr == nil {
		if metrics == 1 {
			return []float64{m.NsPerOp / 1000}, nil
		}
		if m.P99NsPerOp <= 0 {
			return nil, fmt.Errorf("tcprr: no p99 in %q", out)
		}
		return []float64{m.NsPerOp / 1000, m.P99NsPerOp / 1000}, nil
	}
	_, _ = docker(ctx, 30*time.Second, "exec", t.work, "sh", "-c", "pkill -x tcprr; sleep 0.5; /bench/tcprr server "+tcprrPort+" -D")
	if runErr != nil {
		return nil, runErr
	}
	return nil, err
}

// iperfResult parses an iperf3 run. On failure it restarts the container's
// iperf3 server, which an interrupted test can leave busy for good.
func iperfResult(ctx context.Context, t *target, out []byte, runErr error) ([]float64, error) {
	g, err := parse.Iperf3Gbits(out)
	if err == nil && runErr == nil {
		return []float64{g}, nil
	}
	_, _ = docker(ctx, 30*time.Second, "exec", t.work, "sh", "-c", "pkill -x iperf3; sleep 0.5; iperf3 -s -D")
	if runErr != nil {
		if err != nil {
			return nil, fmt.Errorf("%v (%v)", err, runErr)
		}
		return nil, runErr
	}
	return nil, err
}
