package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestPublishedPort serves HTTP from inside the container on a port
// published to the host's loopback, and fetches it from the host.
func TestPublishedPort(t *testing.T) {
	requireIntegration(t)
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			name := uniqueName("httpd")
			startDetached(t, rt, name, "-p", "127.0.0.1::8080", "--",
				"sh", "-c", "mkdir -p /www && echo served-by-"+rt+" > /www/index.html && exec httpd -f -p 8080 -h /www")
			hostPort := strings.TrimSpace(mustDocker(t, "port", name, "8080/tcp"))
			// "docker port" may list several bindings; take the IPv4 one.
			hostPort = strings.Split(hostPort, "\n")[0]
			url := "http://" + hostPort + "/index.html"
			client := http.Client{Timeout: 5 * time.Second}
			var body string
			eventually(t, 30*time.Second, "the server in the container to answer on "+url, func() bool {
				resp, err := client.Get(url)
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				body = string(b)
				return resp.StatusCode == http.StatusOK
			})
			if body != "served-by-"+rt+"\n" {
				t.Errorf("body %q", body)
			}
		})
	}
}

// TestContainerReachesHostOverBridge serves TCP from the host on the docker
// bridge's gateway address and talks to it from inside the container.
// (busybox nc rather than wget: Debian's static busybox wget crashes on some
// paths, under runc too.)
func TestContainerReachesHostOverBridge(t *testing.T) {
	requireIntegration(t)
	gw := bridgeGateway(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(gw, "0"))
	if err != nil {
		t.Fatalf("listening on the bridge gateway: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "host got %q\n", line)
			}()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			r := runIn(t, rt, "sh", "-c", fmt.Sprintf("echo from-%s | nc %s %d", rt, addr.IP, addr.Port))
			want := fmt.Sprintf("host got %q\n", "from-"+rt+"\n")
			if r.code != 0 || r.stdout != want {
				t.Errorf("talking to the host at %s: %v, want %q", addr, r, want)
			}
		})
	}
}

// bridgeGateway returns the host's IPv4 address on Docker's default bridge
// (docker0 unless configured otherwise): the address containers reach the
// host at.
func bridgeGateway(t *testing.T) string {
	t.Helper()
	ifname := strings.TrimSpace(mustDocker(t, "network", "inspect", "bridge", "-f", `{{index .Options "com.docker.network.bridge.name"}}`))
	if ifname == "" || ifname == "<no value>" {
		ifname = "docker0"
	}
	iface, err := net.InterfaceByName(ifname)
	if err != nil {
		t.Fatalf("docker bridge %s: %v", ifname, err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	t.Fatalf("docker bridge %s has no IPv4 address", ifname)
	return ""
}

// interfaces lists the network interfaces a container sees, from
// /proc/net/dev (present under Linux and gVisor alike).
func interfaces(t *testing.T, rt string, opts ...string) string {
	t.Helper()
	r := runIn(t, rt, append(opts, "--", "cat", "/proc/net/dev")...)
	if r.code != 0 {
		t.Fatalf("reading /proc/net/dev under %s: %v", rt, r)
	}
	var names []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if i := strings.Index(l, ":"); i > 0 && !strings.Contains(l, "|") {
			names = append(names, strings.TrimSpace(l[:i]))
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func TestNetworkNoneHasOnlyLoopback(t *testing.T) {
	requireIntegration(t)
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			if got := interfaces(t, rt, "--network=none"); got != "lo" {
				t.Errorf("--network=none interfaces: %q, want only lo", got)
			}
			if got := interfaces(t, rt); got == "lo" || !strings.Contains(got, "lo") {
				t.Errorf("default network interfaces: %q, want lo and the bridge's", got)
			}
			// Loopback still works with no network.
			r := runIn(t, rt, "--network=none", "--", "sh", "-c",
				"(echo pong | nc -l -p 7777 &) ; sleep 1; nc 127.0.0.1 7777 </dev/null")
			if r.code != 0 || strings.TrimSpace(r.stdout) != "pong" {
				t.Errorf("loopback under --network=none: %v", r)
			}
		})
	}
}
