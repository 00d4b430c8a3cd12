package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBindMount(t *testing.T) {
	requireIntegration(t)
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("from host\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runIn(t, rt, "-v", dir+":/data", "--", "sh", "-c", "cat /data/in.txt; echo from container > /data/out.txt; mkdir /data/sub; echo nested > /data/sub/f")
			if r.code != 0 || r.stdout != "from host\n" {
				t.Fatalf("reading the bind mount: %v", r)
			}
			for file, want := range map[string]string{"out.txt": "from container\n", "sub/f": "nested\n"} {
				got, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil || string(got) != want {
					t.Errorf("host sees %s = %q, %v; want %q", file, got, err, want)
				}
			}
			// Read-only bind mounts refuse writes.
			r = runIn(t, rt, "-v", dir+":/data:ro", "--", "sh", "-c", "echo x > /data/ro.txt")
			if r.code == 0 {
				t.Errorf("write to a :ro bind mount succeeded: %v", r)
			}
			if _, err := os.Stat(filepath.Join(dir, "ro.txt")); err == nil {
				t.Error("file written through a :ro bind mount exists on the host")
			}
		})
	}
}

func TestNamedVolumeSurvivesContainer(t *testing.T) {
	requireIntegration(t)
	vol := uniqueName("vol")
	mustDocker(t, "volume", "create", vol)
	t.Cleanup(func() { exec.Command("docker", "volume", "rm", "-f", vol).Run() })

	name := uniqueName("vol-writer")
	r := docker(t, "run", "--name", name, "--runtime="+athena, "-v", vol+":/vol", busybox, "sh", "-c", "echo persisted > /vol/f")
	if r.code != 0 {
		t.Fatalf("writer: %v", r)
	}
	mustDocker(t, "rm", name)
	r = runIn(t, athena, "-v", vol+":/vol", "--", "cat", "/vol/f")
	if r.code != 0 || r.stdout != "persisted\n" {
		t.Fatalf("reading the volume from a new container: %v", r)
	}
	mountpoint := strings.TrimSpace(mustDocker(t, "volume", "inspect", "-f", "{{.Mountpoint}}", vol))
	if got, err := os.ReadFile(filepath.Join(mountpoint, "f")); err != nil || string(got) != "persisted\n" {
		t.Errorf("volume on the host holds %q, %v", got, err)
	}
}
