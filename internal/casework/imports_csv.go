package casework

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// A caseload file is a CSV file with a header row naming its columns, then
// one row per person: the fields of OpenRequest, one column each (README.md,
// "Loading a caseload"; docs/import-template.csv). This file reads it and
// checks each row with OpenRequest.Check, the very check of opening one
// case, naming the column at fault; imports.go adds the directory's checks
// (teams, owners, scope) and the cases already open.

// Limits of a caseload file.
const (
	MaxImportBytes = 20 << 20 // 20 MiB
	MaxImportRows  = 50_000
)

// ImportProblem is one thing wrong with a row: the column at fault ("" for
// the row as a whole) and what is wrong with it.
type ImportProblem = postgres.ImportProblem

// importColumn is one column of a caseload file: the OpenRequest field it
// fills, as OpenRequest.Check names it, and how its text is read.
type importColumn struct {
	Name     string
	Required bool
	Field    string
	set      func(r *OpenRequest, v string) (problem string)
}

func textInto(f func(r *OpenRequest) *string, upper bool) func(*OpenRequest, string) string {
	return func(r *OpenRequest, v string) string {
		if upper {
			v = strings.ToUpper(v)
		}
		*f(r) = v
		return ""
	}
}

func dateInto(f func(r *OpenRequest) *resettlement.Date) func(*OpenRequest, string) string {
	return func(r *OpenRequest, v string) string {
		if v == "" {
			return ""
		}
		d, ok := parseImportDate(v)
		if !ok {
			return "must be a date such as 2026-03-12 or 12/03/2026"
		}
		*f(r) = d
		return ""
	}
}

// ImportColumns are the columns of a caseload file, in the template's
// order. Read it; never modify it.
var ImportColumns = []importColumn{
	{"prison_number", true, "person.prison_number", textInto(func(r *OpenRequest) *string { return &r.Person.PrisonNumber }, true)},
	{"booking", true, "person.booking", textInto(func(r *OpenRequest) *string { return &r.Person.Booking }, false)},
	{"given_name", true, "person.given_name", textInto(func(r *OpenRequest) *string { return &r.Person.GivenName }, false)},
	{"family_name", true, "person.family_name", textInto(func(r *OpenRequest) *string { return &r.Person.FamilyName }, false)},
	{"date_of_birth", true, "person.date_of_birth", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Person.DateOfBirth })},
	{"local_authority", false, "person.local_authority", textInto(func(r *OpenRequest) *string { return &r.Person.LocalAuthority }, false)},
	{"establishment", true, "establishment", textInto(func(r *OpenRequest) *string { return &r.Establishment }, true)},
	{"team", true, "team", textInto(func(r *OpenRequest) *string { return &r.Team }, false)},
	{"owner", false, "owner", textInto(func(r *OpenRequest) *string { return &r.Owner }, false)},
	{"received_on", true, "received_on", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.ReceivedOn })},
	{"sentence_date", false, "sentence_date", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.SentenceDate })},
	{"crd", false, "release_dates.crd", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.CRD })},
	{"ard", false, "release_dates.ard", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.ARD })},
	{"ped", false, "release_dates.ped", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.PED })},
	{"npd", false, "release_dates.npd", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.NPD })},
	{"prrd", false, "release_dates.prrd", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.PRRD })},
	{"hdced", false, "release_dates.hdced", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.HDCED })},
	{"hdcad", false, "release_dates.hdcad", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.HDCAD })},
	{"apd", false, "release_dates.apd", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.APD })},
	{"confirmed", false, "release_dates.confirmed", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.Confirmed })},
	{"ted", false, "release_dates.ted", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.TED })},
	{"sed", false, "release_dates.sed", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.SED })},
	{"led", false, "release_dates.led", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.LED })},
	{"tused", false, "release_dates.tused", dateInto(func(r *OpenRequest) *resettlement.Date { return &r.Dates.TUSED })},
	{"indeterminate", false, "release_dates.indeterminate", func(r *OpenRequest, v string) string {
		b, ok := parseImportBool(v)
		if !ok {
			return "must be true or false (or yes or no), or empty for false"
		}
		r.Dates.Indeterminate = b
		return ""
	}},
}

// ImportHeader is the header row of a caseload file with every column.
func ImportHeader() string {
	names := make([]string, len(ImportColumns))
	for i, c := range ImportColumns {
		names[i] = c.Name
	}
	return strings.Join(names, ",")
}

// importColumnNamed finds a column by name.
func importColumnNamed(name string) (importColumn, bool) {
	for _, c := range ImportColumns {
		if c.Name == name {
			return c, true
		}
	}
	return importColumn{}, false
}

// importColumnOf names the column behind a field OpenRequest.Check names;
// "release_dates" (the target before the reception date) is the target's
// own column. "" for a field no column fills.
func importColumnOf(field string, r OpenRequest) string {
	if field == "release_dates" {
		if _, source, ok := r.Dates.Target(); ok {
			return strings.ToLower(source)
		}
		return ""
	}
	for _, c := range ImportColumns {
		if c.Field == field {
			return c.Name
		}
	}
	return ""
}

// parseImportDate reads a date as ISO 8601 (2026-03-12) or as UK
// spreadsheets write it (12/03/2026, 12/3/2026).
func parseImportDate(v string) (resettlement.Date, bool) {
	if d, err := resettlement.ParseDate(v); err == nil {
		return d, true
	}
	parts := strings.Split(v, "/")
	if len(parts) != 3 || len(parts[2]) != 4 || len(parts[0]) > 2 || len(parts[1]) > 2 {
		return resettlement.Date{}, false
	}
	day, err1 := strconv.Atoi(parts[0])
	month, err2 := strconv.Atoi(parts[1])
	year, err3 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || month < 1 || month > 12 || day < 1 {
		return resettlement.Date{}, false
	}
	t := time.Date(year, time.Month(month), day, 12, 0, 0, 0, time.UTC)
	if t.Day() != day { // 31/02/2026
		return resettlement.Date{}, false
	}
	return resettlement.Date{Year: year, Month: time.Month(month), Day: day}, true
}

func parseImportBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "", "false", "no", "n", "0":
		return false, true
	case "true", "yes", "y", "1":
		return true, true
	}
	return false, false
}

// importRow is one row of a caseload file: its line (of the row's first
// field, the header being line 1), the request it makes, and its problems.
type importRow struct {
	Line     int
	Req      OpenRequest
	Problems []ImportProblem
}

func (r *importRow) add(column, message string) {
	r.Problems = append(r.Problems, ImportProblem{Column: column, Message: message})
}

func (r *importRow) hasProblem(column string) bool {
	for _, p := range r.Problems {
		if p.Column == column {
			return true
		}
	}
	return false
}

// importFile is a caseload file as read.
type importFile struct {
	Rows     []importRow
	LastLine int
}

// fileError is the Invalid error about the file as a whole.
func fileError(detail, field, message string) *Error {
	return &Error{Kind: Invalid, Detail: detail, Fields: resettlement.Errors{{Field: field, Message: message}}}
}

// parseImportFile reads a caseload file: the header, then each row with
// its values read into an OpenRequest (problems with a value named by its
// column). A file that cannot be read as such — too large, not CSV text,
// its header missing a required column or naming one not known — is
// refused whole, naming the file or the columns at fault.
func parseImportFile(b []byte) (importFile, error) {
	var f importFile
	if len(b) > MaxImportBytes {
		return f, &Error{Kind: TooLarge, Detail: fmt.Sprintf("The file is larger than %d MiB: split it into smaller files.", MaxImportBytes>>20),
			Fields: resettlement.Errors{{Field: "file", Message: fmt.Sprintf("must be at most %d MiB", MaxImportBytes>>20)}}}
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // the byte order mark spreadsheets write
	switch {
	case len(bytes.TrimSpace(b)) == 0:
		return f, fileError("The file is empty.", "file", "is empty: it needs a header row naming the columns, then a row per person")
	case bytes.HasPrefix(b, []byte("PK\x03\x04")), bytes.HasPrefix(b, []byte("\xd0\xcf\x11\xe0")):
		return f, fileError("The file is a spreadsheet workbook, not CSV.", "file",
			"is a spreadsheet workbook, not a CSV file: save it as \"CSV UTF-8 (comma delimited)\" and upload that")
	case bytes.IndexByte(b, 0) >= 0:
		return f, fileError("The file is not a CSV file.", "file", "holds binary data, not CSV text")
	case !utf8.Valid(b):
		return f, fileError("The file is not UTF-8 text.", "file", "is not UTF-8 text: save it as \"CSV UTF-8 (comma delimited)\"")
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return f, csvError(err)
	}
	cols, err := importHeader(header)
	if err != nil {
		return f, err
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return f, csvError(err)
		}
		line, _ := r.FieldPos(0)
		if blankRecord(rec) {
			continue // a spreadsheet's empty row
		}
		if len(f.Rows) == MaxImportRows {
			return f, fileError(fmt.Sprintf("The file has more than %d rows: split it into files of at most %d.", MaxImportRows, MaxImportRows),
				"file", fmt.Sprintf("must have at most %d rows", MaxImportRows))
		}
		f.Rows = append(f.Rows, readImportRow(line, cols, rec))
		f.LastLine = line
	}
	if len(f.Rows) == 0 {
		return f, fileError("The file has no rows.", "file", "has a header row but no rows: add a row per person")
	}
	return f, nil
}

// importHeader matches the header's names with the columns (case, spaces
// and hyphens aside: "Prison number" is prison_number), refusing names not
// known, names given twice and required columns missing, all at once.
func importHeader(header []string) ([]importColumn, error) {
	if len(header) == 1 && strings.ContainsAny(header[0], ";\t|") {
		return nil, fileError("The file's columns are not separated by commas.", "header",
			"has one column: separate the columns with commas (save the file as CSV, comma delimited)")
	}
	var errs resettlement.Errors
	cols := make([]importColumn, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		name = strings.NewReplacer(" ", "_", "-", "_").Replace(name)
		c, ok := importColumnNamed(name)
		switch {
		case name == "":
			errs.Add("header", fmt.Sprintf("column %d has no name: name it, or remove the column", i+1))
		case !ok:
			shown := h
			if utf8.RuneCountInString(shown) > 40 || !PlainText(shown) {
				shown = fmt.Sprintf("number %d", i+1)
			} else {
				shown = strconv.Quote(shown)
			}
			errs.Add("header", fmt.Sprintf("column %s is not one Throughgate knows: the columns are %s", shown, ImportHeader()))
		case seen[name]:
			errs.Add(name, "is named twice in the header row")
		}
		seen[name] = true
		cols[i] = c
	}
	for _, c := range ImportColumns {
		if c.Required && !seen[c.Name] {
			errs.Add(c.Name, "is a required column, missing from the header row")
		}
	}
	if len(errs) > 0 {
		return nil, &Error{Kind: Invalid, Detail: "The file's header row does not name the columns Throughgate takes: see errors for each column.", Fields: errs}
	}
	return cols, nil
}

// csvError is the Invalid error of a file the CSV reader cannot read,
// naming the line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		what := "cannot be read as CSV"
		switch {
		case errors.Is(pe.Err, csv.ErrBareQuote):
			what = `has a quote (") inside a value that does not start with one: put the whole value in quotes and double the quote ("")`
		case errors.Is(pe.Err, csv.ErrQuote):
			what = `has a value whose opening quote (") is never closed`
		}
		return fileError(fmt.Sprintf("The file is not valid CSV: line %d %s.", pe.Line, what), "file", fmt.Sprintf("line %d %s", pe.Line, what))
	}
	if errors.Is(err, io.EOF) {
		return fileError("The file is empty.", "file", "is empty: it needs a header row naming the columns, then a row per person")
	}
	return fileError("The file is not valid CSV.", "file", "cannot be read as CSV")
}

func blankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// readImportRow reads one record into a request, noting the values that
// cannot be read.
func readImportRow(line int, cols []importColumn, rec []string) importRow {
	row := importRow{Line: line}
	if len(rec) != len(cols) {
		row.add("", fmt.Sprintf("has %d values, but the header row names %d columns", len(rec), len(cols)))
		return row
	}
	for i, c := range cols {
		if msg := c.set(&row.Req, strings.TrimSpace(rec[i])); msg != "" {
			row.add(c.Name, msg)
		}
	}
	return row
}

// check checks the row's request with OpenRequest.Check, as opening one
// case does, naming each problem's column; a column whose value could not
// be read is not reported again.
func (r *importRow) check(now time.Time) {
	if len(r.Problems) > 0 && r.Problems[0].Column == "" {
		return // its values could not be placed in columns
	}
	read := map[string]bool{}
	for _, p := range r.Problems {
		read[p.Column] = true
	}
	fe, _ := resettlement.AsFieldErrors(r.Req.Check(now))
	for _, e := range fe {
		col := importColumnOf(e.Field, r.Req)
		if read[col] && col != "" {
			continue
		}
		msg := e.Message
		if col == "" && e.Field != "" {
			msg = e.Field + " " + msg
		}
		r.add(col, msg)
	}
}

// checkRows checks every row on its own, then the rows against each
// other: a person and booking named on two rows is a problem on the
// second (one open case per person and booking).
func checkRows(rows []importRow, now time.Time) {
	first := map[postgres.PersonBooking]int{}
	for i := range rows {
		r := &rows[i]
		r.check(now)
		if r.hasProblem("prison_number") || r.hasProblem("booking") || r.hasProblem("") {
			continue
		}
		pb := postgres.PersonBooking{PrisonNumber: r.Req.Person.PrisonNumber, Booking: r.Req.Person.Booking}
		if line, dup := first[pb]; dup {
			r.add("booking", fmt.Sprintf("repeats the prison number and booking of line %d: one case per person and booking", line))
			continue
		}
		first[pb] = r.Line
	}
}

// ProblemText says one problem of a row as a sentence's start:
// `line 7, column "crd": must be a date …`.
func ProblemText(line int, p ImportProblem) string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", line, p.Message)
	}
	return fmt.Sprintf("line %d, column %q: %s", line, p.Column, p.Message)
}

// ImportTemplate is the template of a caseload file: the header row with
// every column and two example rows, one with ISO dates and one with
// dates as UK spreadsheets write them. docs/import-template.csv is a copy,
// and the pages offer it for download.
const ImportTemplate = `prison_number,booking,given_name,family_name,date_of_birth,local_authority,establishment,team,owner,received_on,sentence_date,crd,ard,ped,npd,prrd,hdced,hdcad,apd,confirmed,ted,sed,led,tused,indeterminate
A1234BC,1,Sam,Example,1990-05-17,Islington,PVI,pvi-resettlement,officer-1,2026-01-12,2025-11-03,2026-09-04,,,,,2026-07-08,,,,,2027-05-02,2027-05-02,,false
B2345CD,1,Alex,Sample,1985-11-30,Lambeth,BXI,bxi-resettlement,,02/02/2026,,14/08/2026,,,,,,,,,,10/02/2027,10/02/2027,10/02/2028,
`
