package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Outcome is a row's verdict.
type Outcome string

const (
	Pass     Outcome = "pass"
	Fail     Outcome = "FAIL"
	Info     Outcome = "info"      // a figure with no target of its own
	Checked  Outcome = "checked"   // correctness only (a quick run, -n below the scenario's size)
	NotBuilt Outcome = "not built" // the feature does not exist yet
	NotRun   Outcome = "not run"   // the scenario could not run here; Note says why
)

// Row is one line of the table: a figure for Throughgate, the same figure
// for bare Temporal on the same server in the same run where there is one,
// their ratio, the target and the verdict.
type Row struct {
	Scenario string
	Figure   string
	TG       string // Throughgate's figure
	Bare     string // bare Temporal's, or ""
	Ratio    string // TG / bare, or ""
	Target   string
	Outcome  Outcome
	Note     string // why a row is not built or not run, or what bounds a miss
}

// Table collects the rows of every scenario run.
type Table struct {
	Rows []Row
	// Quick is set when sizes are below the scenarios' full sizes: targets
	// are then not judged (a quick run checks the harness, not the speed).
	Quick bool
}

func (t *Table) add(r Row) { t.Rows = append(t.Rows, r) }

// judge adds a row whose verdict is ok, unless the run is quick.
func (t *Table) judge(r Row, ok bool) {
	switch {
	case t.Quick:
		r.Outcome = Checked
	case ok:
		r.Outcome = Pass
	default:
		r.Outcome = Fail
	}
	t.add(r)
}

// Failed lists the rows that missed their target.
func (t *Table) Failed() []Row {
	var out []Row
	for _, r := range t.Rows {
		if r.Outcome == Fail {
			out = append(out, r)
		}
	}
	return out
}

// Print writes the table, then the notes.
func (t *Table) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tThroughgate\tbare Temporal\tratio\ttarget\tresult")
	fmt.Fprintln(tw, "--------\t------\t-----------\t-------------\t-----\t------\t------")
	for _, r := range t.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.Figure, dash(r.TG), dash(r.Bare), dash(r.Ratio), dash(r.Target), r.Outcome)
	}
	tw.Flush()
	first := true
	for _, r := range t.Rows {
		if r.Note == "" {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nnotes:")
			first = false
		}
		fmt.Fprintf(w, "  %s / %s: %s\n", r.Scenario, r.Figure, r.Note)
	}
}

// Markdown writes the table as GitHub Markdown, for README.
func (t *Table) Markdown(w io.Writer) {
	fmt.Fprintln(w, "| scenario | figure | Throughgate | bare Temporal | ratio | target | result |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range t.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Scenario, r.Figure, dash(r.TG), dash(r.Bare), dash(r.Ratio), dash(r.Target), r.Outcome)
	}
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

// secs formats a duration in seconds.
func secs(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// mib formats a size in MiB.
func mib(b int64) string {
	return fmt.Sprintf("%d MiB", b>>20)
}

// ratio formats a/b.
func ratio(a, b float64) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", a/b)
}

// count formats an integer with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
