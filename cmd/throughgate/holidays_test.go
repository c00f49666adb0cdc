package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/resettlement"
)

// TestHolidaysCheck runs `throughgate holidays check FILE` on files written
// for the test and checks what it prints and its exit code.
func TestHolidaysCheck(t *testing.T) {
	builtIn := resettlement.EmbeddedHolidayFeed()

	// The built-in feed plus a day the feed's last year does not have, and a
	// one-off proclaimed for the year after it.
	var feed map[string]struct {
		Division string            `json:"division"`
		Events   []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(builtIn, &feed); err != nil {
		t.Fatal(err)
	}
	cmp, err := resettlement.CompareHolidays(builtIn, builtIn)
	if err != nil {
		t.Fatal(err)
	}
	last := cmp.OldTo
	ew := feed["england-and-wales"]
	ew.Events = append(ew.Events, event(t, last, "06-14", "Extra bank holiday"))
	for _, day := range []string{"01-05", "04-02", "05-03", "05-31", "08-30", "06-13", "12-27", "12-28"} {
		// Whole days are not needed here: only a year with a January and
		// a December day, which these are.
		ew.Events = append(ew.Events, event(t, last+1, day, "Day "+day))
	}
	feed["england-and-wales"] = ew
	changed, err := json.Marshal(feed)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	same := write("same.json", builtIn)
	newer := write("newer.json", changed)
	broken := write("broken.json", []byte(`{"england-and-wales": {"division": "england-and-wales", "events": [`))

	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // each must appear
		stderr     string
		stdoutRows int // lines on stdout, -1 to skip
	}{
		{"the same feed", []string{"check", same}, 0,
			[]string{"no changes to England and Wales bank holidays", "the built-in feed holds"}, "", 1},
		{"a feed that changes days", []string{"check", newer}, 1,
			[]string{
				"-06-14 added   \"Extra bank holiday\"\n",
				"-06-13 added   \"Day 06-13\" (the old feed does not hold",
				"changes to England and Wales bank holidays: ",
			}, "", -1},
		{"a file that is not a feed", []string{"check", broken}, 2, nil, "broken.json: new feed: not the JSON", 0},
		{"a file that is not there", []string{"check", filepath.Join(dir, "missing.json")}, 2, nil, "missing.json", 0},
		{"no file", []string{"check"}, 2, nil, "usage: throughgate holidays check FILE", 0},
		{"another verb", []string{"update", same}, 2, nil, "usage: throughgate holidays check FILE", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runHolidays(tt.args, &stdout, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tt.stderr) || (tt.stderr == "") != (stderr.Len() == 0) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.stderr)
			}
			if rows := strings.Count(stdout.String(), "\n"); tt.stdoutRows >= 0 && rows != tt.stdoutRows {
				t.Errorf("%d lines on stdout, want %d:\n%s", rows, tt.stdoutRows, stdout.String())
			}
		})
	}

	// The changed feed: one line per change, and a summary that counts them.
	var stdout bytes.Buffer
	runHolidays([]string{"check", newer}, &stdout, &bytes.Buffer{})
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	diff, err := resettlement.CompareHolidays(builtIn, changed)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(diff.Changes)+1 || len(diff.Changes) < 2 {
		t.Fatalf("%d lines for %d changes:\n%s", len(lines), len(diff.Changes), stdout.String())
	}
	for i, c := range diff.Changes {
		if lines[i] != c.String() {
			t.Errorf("line %d is %q, want %q", i+1, lines[i], c.String())
		}
	}
}

// event is one england-and-wales event in the feed's own JSON.
func event(t *testing.T, year int, monthDay, title string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"title": title, "date": fmt.Sprintf("%d-%s", year, monthDay), "notes": "", "bunting": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
