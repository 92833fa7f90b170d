package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar (entries, resources/s, ETA).
type progress struct {
	unit  string // what is counted; "entries" unless set
	rate  string // what the rate counts; "resources" unless set
	w     io.Writer
	total int
	count int
	start time.Time
	drawn time.Time
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: total, start: time.Now(), unit: "entries", rate: "resources"}
}

// add counts n more entries and redraws at most every 200 ms.
func (p *progress) add(n int) {
	p.count += n
	if time.Since(p.drawn) < 200*time.Millisecond && p.count < p.total {
		return
	}
	p.drawn = time.Now()
	p.draw()
}

func (p *progress) draw() {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(p.count)/float64(p.total), 1)
	}
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.count) / elapsed
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-p.count)/rate) * time.Second).Round(time.Second).String()
	}
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s  %.0f %s/s  ETA %s ",
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.count, p.total, p.unit, rate, p.rate, eta)
}

// done draws the final state and ends the line.
func (p *progress) done() {
	p.draw()
	fmt.Fprintln(p.w)
}
