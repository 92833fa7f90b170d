package loadgen

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

// The CPU readings grow by about the CPU this process burns, and the
// machine's by at least as much.
func TestReadCPU(t *testing.T) {
	pid := os.Getpid()
	before := readCPU(pid)
	if !before.ok {
		t.Fatal("cannot read /proc")
	}
	start := time.Now()
	sum := [32]byte{}
	for time.Since(start) < 300*time.Millisecond {
		sum = sha256.Sum256(sum[:])
	}
	after := readCPU(pid)
	server := after.server - before.server
	machine := after.machine - before.machine
	if server < 200*time.Millisecond || server > 2*time.Second {
		t.Errorf("process CPU grew by %v while it burned ~300ms", server)
	}
	if machine+2*clockTick < server {
		t.Errorf("machine busy time grew by %v, less than the process's %v", machine, server)
	}
	srv, mach := perItem(before, after, 10)
	if srv != float64(server.Microseconds())/10 || mach != float64(machine.Microseconds())/10 {
		t.Errorf("perItem = %v, %v", srv, mach)
	}
	if s, m := perItem(before, cpuTime{}, 10); s != 0 || m != 0 {
		t.Errorf("perItem with a failed reading = %v, %v", s, m)
	}
}
