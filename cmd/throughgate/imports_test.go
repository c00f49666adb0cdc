package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// `throughgate import cases` needs a file and who imports it, and says
// how before reading any setting; an unknown setting is refused as for
// every command. (Against the dev stack: integration/imports_test.go runs
// app.ImportCases, which it calls.)
func TestImportCommandLine(t *testing.T) {
	for _, args := range [][]string{
		{"import"},
		{"import", "staff", "x.csv"},
		{"import", "cases", "--by", "officer-1"},
		{"import", "cases", "x.csv"},
		{"import", "cases", "x.csv", "y.csv", "--by", "officer-1"},
	} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 || !strings.Contains(errs.String(), importUsage) {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs.String())
		}
	}
	var out, errs bytes.Buffer
	if code := run([]string{"import", "cases", "x.csv", "--by=officer-1", "--no-such-setting", "1"}, &out, &errs); code != 2 ||
		!strings.Contains(errs.String(), "no-such-setting") {
		t.Errorf("an unknown setting: exit %d, stderr %q", code, errs.String())
	}
}

// The exit status says how the import went.
func TestImportExit(t *testing.T) {
	var errs bytes.Buffer
	refused := casework.FieldsError(resettlement.Errors{{Field: "received_on", Message: "is a required column, missing from the header row"}})
	for _, c := range []struct {
		res  app.ImportOutcome
		err  error
		want int
	}{
		{app.ImportOutcome{}, nil, 0},
		{app.ImportOutcome{Problems: true}, nil, 1},
		{app.ImportOutcome{}, refused, 2},
		{app.ImportOutcome{}, errors.New("cannot reach PostgreSQL"), 1},
	} {
		if got := importExit(c.res, c.err, &errs); got != c.want {
			t.Errorf("%+v %v: exit %d, want %d", c.res, c.err, got, c.want)
		}
	}
	if !strings.Contains(errs.String(), "received_on: is a required column") {
		t.Errorf("stderr %q", errs.String())
	}
}
