package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// redisWorkload is redis-server under redis-benchmark and redis-cli
// checks, both on the host, through a port published on 127.0.0.1.
type redisWorkload struct{ h *harness }

func (w *redisWorkload) family() string { return "redis" }

// redisTests are redis-benchmark's tests; each must report a rate.
var redisTests = []string{"set", "get", "incr", "lpush", "rpush", "lpop", "rpop", "sadd", "hset", "spop", "mset"}

// cmd runs redis without persistence (nothing to fsync, nothing left
// behind), reachable from the published port.
func (w *redisWorkload) cmd() []string {
	return []string{"redis-server", "--port", "6379", "--protected-mode", "no", "--save", "", "--appendonly", "no"}
}

func (w *redisWorkload) commandLine() string {
	return `redis-server --port 6379 --protected-mode no --save "" --appendonly no`
}

// redisChecks are commands with the answers redis-cli must print.
var redisChecks = [][2]string{
	{"SET eval:k hello", "OK"},
	{"GET eval:k", "hello"},
	{"INCR eval:n", "1"},
	{"INCRBY eval:n 41", "42"},
	{"RPUSH eval:l a b c", "3"},
	{"LRANGE eval:l 0 -1", "a\nb\nc"},
	{"HSET eval:h f v", "1"},
	{"HGET eval:h f", "v"},
	{"DEL eval:k", "1"},
	{"EXISTS eval:k", "0"},
}

func (w *redisWorkload) run(ctx context.Context, rt, name string) (*outcome, error) {
	start := time.Now()
	c, err := w.h.startDetached(ctx, name, rt, []string{"-p", "127.0.0.1::6379"}, w.cmd()...)
	if err != nil {
		return nil, err
	}
	o := &outcome{id: c.id}
	defer func() { o.seconds = time.Since(start).Seconds() }()
	port, err := c.hostPort(ctx, "6379/tcp")
	if err != nil {
		w.h.stop(ctx, c)
		return nil, err
	}
	cli := func(args ...string) (string, error) {
		r, err := command(ctx, 30*time.Second, "redis-cli", append([]string{"-h", "127.0.0.1", "-p", port}, args...)...)
		if err != nil {
			return "", err
		}
		if r.code != 0 {
			return "", fmt.Errorf("redis-cli %s: exit %d: %s", strings.Join(args, " "), r.code, firstLine(r.stderr+r.stdout))
		}
		return strings.TrimSpace(r.stdout), nil
	}
	ready := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if out, err := cli("ping"); err == nil && out == "PONG" {
			ready = true
			break
		}
		if ok, why := c.running(ctx); !ok {
			w.h.stop(ctx, c)
			o.detail, o.failures = "redis exited before answering: "+why, 1
			return o, nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	if !ready {
		w.h.stop(ctx, c)
		o.detail, o.failures = "redis did not answer PING within 60s", 1
		return o, nil
	}
	var problems []string
	for _, chk := range redisChecks {
		o.requests++
		out, err := cli(strings.Fields(chk[0])...)
		if err != nil || out != chk[1] {
			o.failures++
			if len(problems) < 4 {
				problems = append(problems, fmt.Sprintf("%s: got %q (%v)", chk[0], out, err))
			}
		}
	}
	r, err := command(ctx, 5*time.Minute, "redis-benchmark", "-h", "127.0.0.1", "-p", port, "-n", strconv.Itoa(w.h.redisN),
		"-c", "20", "-t", strings.Join(redisTests, ","), "--csv")
	if err != nil {
		w.h.stop(ctx, c)
		return nil, err
	}
	got := parseBenchCSV(r.stdout)
	for _, t := range redisTests {
		o.requests++
		if got[strings.ToUpper(t)] <= 0 {
			o.failures++
			if len(problems) < 6 {
				problems = append(problems, "redis-benchmark reported no rate for "+t)
			}
		}
	}
	if r.code != 0 {
		problems = append(problems, fmt.Sprintf("redis-benchmark exit %d: %s", r.code, firstLine(r.stderr)))
		o.failures++
	}
	code := w.h.stop(ctx, c)
	if code != 0 {
		problems = append(problems, fmt.Sprintf("redis exit status %d", code))
	}
	o.ok = o.failures == 0 && code == 0
	o.detail = strings.Join(problems, "; ")
	if o.ok {
		o.detail = fmt.Sprintf("SET %.0f/s, GET %.0f/s", got["SET"], got["GET"])
	}
	return o, ctx.Err()
}

// parseBenchCSV reads redis-benchmark --csv: "test","rps",... per line.
// Test names are upper-cased and cut at the first space.
func parseBenchCSV(out string) map[string]float64 {
	m := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, ",")
		if len(f) < 2 {
			continue
		}
		name := strings.Trim(f[0], `"`)
		if i := strings.IndexByte(name, ' '); i >= 0 {
			name = name[:i]
		}
		rps, err := strconv.ParseFloat(strings.Trim(f[1], `"`), 64)
		if err != nil {
			continue
		}
		m[strings.ToUpper(name)] = rps
	}
	return m
}
