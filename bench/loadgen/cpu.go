package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of the CPU times in /proc: USER_HZ, 100 on Linux.
const clockTick = 10 * time.Millisecond

// cpuTime is CPU time used so far: by the server process and by the whole
// machine (server, database and load generator together). On a shared
// machine a rate swings with whatever else runs; the CPU an operation
// costs stays put, so it is the figure to compare changes by.
type cpuTime struct {
	server, machine time.Duration
	ok              bool // both could be read
}

// readCPU reads the server's utime+stime (pid 0: none) and the machine's
// busy time: every CPU's time in /proc/stat but idle and iowait.
func readCPU(pid int) cpuTime {
	machine, err := machineBusy()
	if err != nil {
		return cpuTime{}
	}
	t := cpuTime{machine: machine, ok: true}
	if pid != 0 {
		if t.server, err = processCPU(pid); err != nil {
			t.ok = false
		}
	}
	return t
}

// processCPU is utime+stime of /proc/PID/stat: all the process's threads.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// the fields after it start with field 3, so utime (14) and stime (15)
	// are the 12th and 13th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return ticks(f[11:13])
}

// machineBusy sums user, nice, system, irq and softirq of the first line
// of /proc/stat (all CPUs): not idle or iowait, and not steal, the time a
// hypervisor gave to other guests.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 8 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	// cpu user nice system idle iowait irq softirq [steal guest …]; guest
	// time is already counted in user.
	busy := append(append([][]byte{}, f[1:4]...), f[6:8]...)
	return ticks(busy)
}

func ticks(fields [][]byte) (time.Duration, error) {
	var sum time.Duration
	for _, v := range fields {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, err
		}
		sum += time.Duration(n) * clockTick
	}
	return sum, nil
}

// perItem is the CPU used between a and b per item, in microseconds; 0
// when either reading failed or nothing was done.
func perItem(a, b cpuTime, items uint64) (server, machine float64) {
	if !a.ok || !b.ok || items == 0 {
		return 0, 0
	}
	n := float64(items)
	return float64((b.server - a.server).Microseconds()) / n, float64((b.machine - a.machine).Microseconds()) / n
}
