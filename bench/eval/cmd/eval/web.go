package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// webWorkload is bench/eval/app/server.py under the load generator.
type webWorkload struct{ h *harness }

func (w *webWorkload) family() string { return "web" }

func (w *webWorkload) cmd() []string {
	return []string{"python3", "/eval/app/server.py", "--port", "8080"}
}

func (w *webWorkload) commandLine() string { return strings.Join(w.cmd(), " ") }

// opts are the docker run options of every web container: the app
// mounted read-only, the port published on loopback, the sink's address,
// and limits that keep the host safe from the fork bomb.
func (w *webWorkload) opts() []string {
	o := []string{"-p", "127.0.0.1::8080", "-v", filepath.Join(w.h.root, "bench/eval/app") + ":/eval/app:ro",
		"--pids-limit", "2048", "--memory", "4g"}
	if w.h.sink != nil {
		o = append(o, "-e", "EVAL_SINK="+w.h.sink.addr())
	}
	return o
}

// server is a started web container.
type server struct {
	c    *container
	base string
}

// startServer starts the server and waits until it answers /health.
// notReady is set (and err nil) when the container started but the
// server never answered: under enforcement that is an outcome.
func (w *webWorkload) startServer(ctx context.Context, rt, name string) (s *server, notReady string, err error) {
	c, err := w.h.startDetached(ctx, name, rt, w.opts(), w.cmd()...)
	if err != nil {
		return nil, "", err
	}
	s = &server{c: c}
	port, err := c.hostPort(ctx, "8080/tcp")
	if err != nil {
		return s, "", err
	}
	s.base = "http://127.0.0.1:" + port
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.base + "/health")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, "", nil
			}
		}
		if ok, why := c.running(ctx); !ok {
			return s, "server exited before answering: " + why, nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return s, "", err
		}
	}
	return s, "server did not answer /health within 60s", nil
}

func (w *webWorkload) run(ctx context.Context, rt, name string) (*outcome, error) {
	start := time.Now()
	s, notReady, err := w.startServer(ctx, rt, name)
	if err != nil {
		if s != nil {
			w.h.stop(ctx, s.c)
		}
		return nil, err
	}
	o := &outcome{id: s.c.id}
	if notReady != "" {
		w.h.stop(ctx, s.c)
		o.detail, o.failures = notReady, 1
		o.seconds = time.Since(start).Seconds()
		return o, nil
	}
	st := load(ctx, s.base, w.h.requests, 0)
	o.requests, o.failures = st.requests, st.failures
	code := w.h.stop(ctx, s.c)
	o.seconds = time.Since(start).Seconds()
	o.ok = st.failures == 0 && code == 0
	var d []string
	if st.failures > 0 {
		d = append(d, st.describe())
	}
	if code != 0 {
		d = append(d, fmt.Sprintf("server exit status %d", code))
	}
	o.detail = strings.Join(d, "; ")
	return o, ctx.Err()
}

// route is one ordinary request of the load generator and a check of its
// answer.
type route struct {
	method, path string
	body         string
	want         string // the answer must contain it
}

// routes are cycled through in order; {i} is replaced by the request's
// number.
var routes = []route{
	{"GET", "/health", "", "ok"},
	{"GET", "/", "", "<li>hello.txt</li>"},
	{"GET", "/static/hello.txt", "", "Hello from the eval app"},
	{"GET", "/static/data.json", "", `"athena-eval"`},
	{"GET", "/static/page.html", "", "A static page"},
	{"GET", "/info", "", "bookworm"},
	{"GET", "/compute?n=300", "", ""},
	{"GET", "/job?n=200", "", ""},
	{"GET", "/log?msg=request-{i}", "", "logged"},
	{"POST", "/upload?name=file-{i%8}", "payload of request {i}\n", "stored"},
	{"GET", "/report", "", "Linux"},
}

// loadStats counts a load generator's requests.
type loadStats struct {
	requests, failures int
	kinds              map[string]int
}

func (st *loadStats) describe() string {
	var parts []string
	for k, n := range st.kinds {
		parts = append(parts, fmt.Sprintf("%d x %s", n, k))
	}
	return fmt.Sprintf("%d of %d requests failed: %s", st.failures, st.requests, strings.Join(parts, "; "))
}

// load sends n requests over the ordinary routes, four at a time (the
// server handles each connection in a thread), starting at route offset.
func load(ctx context.Context, base string, n, offset int) loadStats {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	st := loadStats{requests: n, kinds: map[string]int{}}
	var mu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := request(ctx, client, base, i+offset); err != nil {
					mu.Lock()
					st.failures++
					k := err.Error()
					if len(st.kinds) < 8 || st.kinds[k] > 0 {
						st.kinds[k]++
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return st
}

// request sends request number i and checks its answer.
func request(ctx context.Context, client *http.Client, base string, i int) error {
	r := routes[i%len(routes)]
	subst := strings.NewReplacer("{i}", fmt.Sprint(i), "{i%8}", fmt.Sprint(i%8))
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(subst.Replace(r.body))
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+subst.Replace(r.path), body)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %v", strings.SplitN(r.path, "?", 2)[0], errorKind(err))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("%s: reading: %v", r.path, errorKind(err))
	case resp.StatusCode != 200:
		return fmt.Errorf("%s: %d %s", strings.SplitN(r.path, "?", 2)[0], resp.StatusCode, firstLine(string(data)))
	case r.want != "" && !strings.Contains(string(data), r.want):
		return fmt.Errorf("%s: unexpected answer %q", strings.SplitN(r.path, "?", 2)[0], firstLine(string(data)))
	case (r.path == "/compute?n=300" || r.path == "/job?n=200") && len(strings.TrimSpace(string(data))) != 64:
		return fmt.Errorf("%s: unexpected answer %q", strings.SplitN(r.path, "?", 2)[0], firstLine(string(data)))
	}
	return nil
}

// errorKind strips the URL (with its port) from a client error, so that
// failures of different runs group.
func errorKind(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// sink is the host listener that the exfiltration and reverse-shell
// triggers connect to, on Docker's bridge gateway. It keeps what comes
// in; a peer that goes quiet for 300 ms without closing (a reverse shell
// waiting at its prompt) is sent "id" and "exit". Writing at once would
// make a sender that never reads close with unread data, which resets
// the connection and loses what it sent.
type sink struct {
	ln net.Listener
	mu sync.Mutex
	// +checklocks:mu
	conns []sinkConn
	wg    sync.WaitGroup
}

type sinkConn struct {
	at   time.Time
	data []byte
}

func newSink(gw string) (*sink, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(gw, "0"))
	if err != nil {
		return nil, fmt.Errorf("listening on the bridge gateway %s: %w", gw, err)
	}
	s := &sink{ln: ln}
	go s.serve()
	return s, nil
}

func (s *sink) addr() string { return s.ln.Addr().String() }

func (s *sink) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, sinkConn{at: time.Now()})
		i := len(s.conns) - 1
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			deadline := time.Now().Add(12 * time.Second)
			var data []byte
			buf := make([]byte, 64<<10)
			sent := false
			for time.Now().Before(deadline) && len(data) < 4<<20 {
				c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				n, err := c.Read(buf)
				data = append(data, buf[:n]...)
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					if !sent {
						c.SetWriteDeadline(time.Now().Add(time.Second))
						c.Write([]byte("id\nexit\n"))
						sent = true
					}
					continue
				}
				if err != nil {
					break
				}
			}
			s.mu.Lock()
			s.conns[i].data = data
			s.mu.Unlock()
		}()
	}
}

// since returns the connections accepted at or after t: their number,
// the bytes received, and whether a shell answered "id".
func (s *sink) since(t time.Time) (n, bytes int, shell bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if c.at.Before(t) {
			continue
		}
		n++
		bytes += len(c.data)
		if strings.Contains(string(c.data), "uid=") {
			shell = true
		}
	}
	return
}

// settle waits until the connections in progress are done, at most d.
func (s *sink) settle(d time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func (s *sink) close() { s.ln.Close() }

// triggerReply is the server's JSON answer to a trigger.
type triggerReply struct {
	Trigger string `json:"trigger"`
	Steps   []Step `json:"steps"`
}

// trigger sends GET /x/NAME and decodes the answer.
func trigger(ctx context.Context, base, name string) (status int, steps []Step, text string, err error) {
	client := &http.Client{Timeout: 60 * time.Second}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/x/"+name, nil)
	if err != nil {
		return 0, nil, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var r triggerReply
	if resp.StatusCode == 200 && json.Unmarshal(data, &r) == nil && r.Trigger == name {
		return resp.StatusCode, r.Steps, "", nil
	}
	return resp.StatusCode, nil, firstLine(string(data)), nil
}
