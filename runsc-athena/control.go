package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/athenaos/athena/sentry"
)

// controlAnswer is what the host reads of the sandbox's answer records
// ("policy", "tolerize").
type controlAnswer struct {
	Type, Status, Error, Container string
	Digest                         string `json:"policy_digest"`
	PID                            int32
	Windows                        int
	Fault, Agent                   string
}

// sendControl writes msg into the control FIFO of a running sandbox and
// waits for the answer record that answer recognizes (true) in the
// sandbox's decision record. Writers hold the control lock, so messages
// never interleave.
func sendControl(sandbox string, msg []byte, answer func(controlAnswer) bool) (controlAnswer, error) {
	var none controlAnswer
	files := linkFiles(sandbox)
	lock, err := os.OpenFile(controlLock(sandbox), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return none, err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return none, err
	}
	rec, err := os.Open(files.Events)
	if err != nil {
		return none, err
	}
	defer rec.Close()
	if _, err := rec.Seek(0, io.SeekEnd); err != nil {
		return none, err
	}
	// Non-blocking open: ENXIO means no sandbox holds the FIFO.
	fd, err := unix.Open(files.Control, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENXIO) {
		return none, fmt.Errorf("container %q is not running (no sandbox on %s)", sandbox, files.Control)
	}
	if err != nil {
		return none, err
	}
	ctl := os.NewFile(uintptr(fd), files.Control)
	defer ctl.Close()
	ctl.SetWriteDeadline(time.Now().Add(policyAnswerTimeout))
	if _, err := ctl.Write(msg); err != nil {
		return none, fmt.Errorf("writing to the sandbox %s: %w", sandbox, err)
	}
	deadline := time.Now().Add(policyAnswerTimeout)
	r := bufio.NewReader(rec)
	var partial []byte
	for time.Now().Before(deadline) {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			partial = append(partial, line...)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			return none, err
		}
		line = append(partial, line...)
		partial = nil
		var ans controlAnswer
		if json.Unmarshal(line, &ans) == nil && answer(ans) {
			return ans, nil
		}
	}
	return none, fmt.Errorf("no answer from the sandbox %s within %v", sandbox, policyAnswerTimeout)
}

// swarmTolerize asks a running sandbox to accept a thread group's recent
// behaviour as normal.
func swarmTolerize(args []string) error {
	pos, err := verbFlags("tolerize", args, 2, nil)
	if err != nil {
		return err
	}
	id := pos[0]
	pid, err := strconv.ParseInt(pos[1], 10, 32)
	if err != nil || pid <= 0 {
		return fmt.Errorf("%w: PID %q is not a positive number", errUsage, pos[1])
	}
	running, err := knownContainer(id)
	if err != nil {
		return err
	}
	if !running {
		return fmt.Errorf("container %q is not running", id)
	}
	ans, err := sendControl(sandboxOf(id), sentry.EncodeTolerizeMessage(id, int32(pid)), func(a controlAnswer) bool {
		return a.Type == "tolerize" && a.Container == id && a.PID == int32(pid)
	})
	if err != nil {
		return err
	}
	if ans.Status != "applied" {
		return fmt.Errorf("the sandbox refused: %s", ans.Error)
	}
	fmt.Printf("tolerized thread group %d of %s: %d windows added to its sense-of-self model\n", pid, id, ans.Windows)
	return nil
}
