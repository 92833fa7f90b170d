package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// rssInterval is how often the server's memory is sampled during a run.
const rssInterval = 100 * time.Millisecond

// memory is a process's resident set in KiB as /proc/PID/status reports it.
type memory struct {
	RSS, HWM int64 // VmRSS now, VmHWM (peak since the process started)
}

// readMemory reads VmRSS and VmHWM of pid (Linux only).
func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		f := bytes.Fields(val) // "123456 kB"
		if len(f) > 0 {
			*dst, _ = strconv.ParseInt(string(f[0]), 10, 64)
		}
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}

// sampleMemory samples pid every rssInterval until ctx ends and then
// returns the largest VmRSS seen and the last VmHWM. pid 0 samples nothing.
func sampleMemory(ctx context.Context, pid int) <-chan memory {
	out := make(chan memory, 1)
	if pid == 0 {
		out <- memory{}
		return out
	}
	go func() {
		var peak memory
		take := func() {
			if m, err := readMemory(pid); err == nil {
				peak.RSS = max(peak.RSS, m.RSS)
				peak.HWM = m.HWM
			}
		}
		tick := time.NewTicker(rssInterval)
		defer tick.Stop()
		take()
		for {
			select {
			case <-ctx.Done():
				take()
				out <- peak
				return
			case <-tick.C:
				take()
			}
		}
	}()
	return out
}

// loadAverage is the 1-minute load average (0 where /proc/loadavg is missing).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(string(f[0]), 64)
	return v
}
