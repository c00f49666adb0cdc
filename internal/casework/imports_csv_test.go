package casework

import (
	"os"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/resettlement"
)

// csvOf builds a caseload file: the template's header, then rows given as
// column=value edits of a good row (received 2026-02-01, CRD 2026-06-01,
// at PVI for pvi-resettlement).
func csvOf(rows ...map[string]string) string {
	var b strings.Builder
	b.WriteString(ImportHeader() + "\n")
	for _, edits := range rows {
		vals := make([]string, len(ImportColumns))
		for i, c := range ImportColumns {
			vals[i] = goodRow[c.Name]
			if v, ok := edits[c.Name]; ok {
				vals[i] = v
			}
		}
		b.WriteString(strings.Join(vals, ",") + "\n")
	}
	return b.String()
}

var goodRow = map[string]string{
	"prison_number": "A1234BC", "booking": "1", "given_name": "Sam", "family_name": "Example", "date_of_birth": "1990-05-17",
	"establishment": "PVI", "team": "pvi-resettlement", "received_on": "2026-02-01", "crd": "2026-06-01",
}

// problemsOf reads and checks a file (pure: no directory), giving each
// row's problems as "column: message" lines.
func problemsOf(t *testing.T, file string) [][]string {
	t.Helper()
	f, err := parseImportFile([]byte(file))
	if err != nil {
		t.Fatalf("the file was refused whole: %v", err)
	}
	checkRows(f.Rows, testNow)
	out := make([][]string, len(f.Rows))
	for i, r := range f.Rows {
		for _, p := range r.Problems {
			out[i] = append(out[i], p.Column+": "+p.Message)
		}
	}
	return out
}

// A file that cannot be read as a caseload is refused whole, naming the
// file or the columns at fault; nothing of it is looked at further.
func TestImportFileRefusedWhole(t *testing.T) {
	header := ImportHeader()
	many := header + "\n" + strings.Repeat(strings.SplitN(csvOf(nil), "\n", 3)[1]+"\n", MaxImportRows+1)
	for _, c := range []struct {
		name, file string
		kind       Kind
		field      string
		says       string
	}{
		{"empty", "", Invalid, "file", "is empty"},
		{"blank lines only", "\n\n  \n", Invalid, "file", "is empty"},
		{"an Excel workbook", "PK\x03\x04\x14\x00rest", Invalid, "file", "spreadsheet workbook"},
		{"binary", header + "\nA1234BC,\x00\x01", Invalid, "file", "binary"},
		{"not UTF-8", header + "\nA1234BC,1,Ren\xe9e", Invalid, "file", "UTF-8"},
		{"semicolons", strings.ReplaceAll(header, ",", ";") + "\n", Invalid, "header", "separate the columns with commas"},
		{"header only", header + "\n", Invalid, "file", "no rows"},
		{"a required column missing", strings.Replace(header, "received_on,", "", 1) + "\n", Invalid, "received_on", "required column"},
		{"an unknown column", header + ",notes\n", Invalid, "header", `"notes" is not one Throughgate knows`},
		{"a column twice", header + ",crd\n", Invalid, "crd", "named twice"},
		{"a column with no name", header + ",\n", Invalid, "header", "has no name"},
		{"a stray quote", header + "\n" + `A1234BC,1,Sam "the man",Example` + "\n", Invalid, "file", "line 2 has a quote"},
		{"a quote never closed", header + "\n" + `A1234BC,1,"Sam,Example` + "\n", Invalid, "file", "never closed"},
		{"too many rows", many, Invalid, "file", "at most 50000 rows"},
		{"too large", header + "\n" + strings.Repeat("x", MaxImportBytes), TooLarge, "file", "at most 20 MiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseImportFile([]byte(c.file))
			e := wantFieldError(t, err, c.kind, c.field)
			if !strings.Contains(e.Fields.Error(), c.says) {
				t.Errorf("%q, want it to say %q", e.Fields.Error(), c.says)
			}
		})
	}
	// Every required column missing is named at once.
	_, err := parseImportFile([]byte("given_name,crd\nSam,2026-06-01\n"))
	e := wantFieldError(t, err, Invalid, "prison_number")
	if len(e.Fields) != 7 {
		t.Errorf("fields %+v, want the seven required columns missing", e.Fields)
	}
}

// Each row is checked as opening one case is (OpenRequest.Check), and
// each problem names the row's column.
func TestImportRowProblems(t *testing.T) {
	for _, c := range []struct {
		name string
		edit map[string]string
		want []string // "column: part of the message"; none for a good row
	}{
		{"good", nil, nil},
		{"lower-case codes are read upper-case", map[string]string{"prison_number": "a1234bc", "establishment": "pvi"}, nil},
		{"UK dates", map[string]string{"received_on": "1/2/2026", "crd": "01/06/2026", "date_of_birth": "17/05/1990"}, nil},
		{"every optional date", map[string]string{"sentence_date": "2026-01-20", "hdced": "2026-04-01", "hdcad": "2026-04-15", "ped": "2026-05-01",
			"sed": "2027-01-01", "led": "2027-06-01", "tused": "2028-01-01", "ted": "2027-01-01", "indeterminate": "no", "local_authority": "Islington", "owner": "officer-1"}, nil},
		{"a bad prison number", map[string]string{"prison_number": "12345"}, []string{"prison_number: must be a prison number"}},
		{"no booking", map[string]string{"booking": ""}, []string{"booking: is required"}},
		{"no name", map[string]string{"given_name": " "}, []string{"given_name: is required"}},
		{"a name with a control character", map[string]string{"family_name": "Ex\u202Eample"}, []string{"family_name: must be plain text"}},
		{"a date that is not one", map[string]string{"date_of_birth": "31/02/1990"}, []string{"date_of_birth: must be a date"}},
		{"a date in American order", map[string]string{"crd": "06/13/2026"}, []string{"crd: must be a date"}},
		{"no date of birth", map[string]string{"date_of_birth": ""}, []string{"date_of_birth: is required"}},
		{"received in the future", map[string]string{"received_on": "2026-03-03"}, []string{"received_on: cannot be in the future"}},
		{"no reception date", map[string]string{"received_on": ""}, []string{"received_on: is required"}},
		{"a bad establishment", map[string]string{"establishment": "Pentonville"}, []string{"establishment: must be a three-letter prison code"}},
		{"no team", map[string]string{"team": ""}, []string{"team: is required"}},
		{"curfew after the CRD", map[string]string{"hdcad": "2026-07-01"}, []string{"hdcad: home detention curfew cannot be after the conditional release date"}},
		{"licence expiry before sentence expiry", map[string]string{"sed": "2027-01-01", "led": "2026-12-01"}, []string{"led: licence expiry cannot be before"}},
		{"release before reception, named by the target's column", map[string]string{"crd": "", "ard": "2026-01-20"},
			[]string{"ard: the release date cannot be before the reception date"}},
		{"a sentence date after the release", map[string]string{"sentence_date": "2026-02-20", "crd": "2026-02-10", "received_on": "2026-02-05"},
			[]string{"sentence_date: cannot be after the target release date"}},
		{"indeterminate not a yes or no", map[string]string{"indeterminate": "maybe"}, []string{"indeterminate: must be true or false"}},
		{"several at once, each once", map[string]string{"prison_number": "X", "crd": "soon", "received_on": "yesterday"},
			[]string{"prison_number: must be a prison number", "received_on: must be a date", "crd: must be a date"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := problemsOf(t, csvOf(c.edit))[0]
			if len(got) != len(c.want) {
				t.Fatalf("problems %q, want %q", got, c.want)
			}
			for _, w := range c.want {
				col, msg, _ := strings.Cut(w, ": ")
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, col+": ") && strings.Contains(g, msg)
				}
				if !found {
					t.Errorf("problems %q, want %q", got, w)
				}
			}
		})
	}
}

// Lines are the file's: the header is line 1, empty rows a spreadsheet
// leaves are skipped but counted, a quoted value over two lines counts
// both; the line is of the row's start. A row with too few or too many
// values is a problem of the row, and a person and booking on two rows a
// problem of the second.
func TestImportRowLines(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(csvOf(nil, map[string]string{"prison_number": "B2345CD"},
		map[string]string{"prison_number": "C3456DE", "local_authority": `"Kingston upon` + "\n" + `Thames"`},
		map[string]string{"prison_number": "A1234BC"}), "\n"), "\n")
	// The header, A1234BC, an empty row, B2345CD, a row of empty values,
	// C3456DE over two lines (a line break is not plain text: a problem, as
	// on opening one case), a short row, A1234BC again.
	file := strings.Join([]string{lines[0], lines[1], "", lines[2], strings.Repeat(",", len(ImportColumns)-1), lines[3], lines[4],
		"D4567EF,1,Sam", lines[5]}, "\n") + "\n"
	f, err := parseImportFile([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	checkRows(f.Rows, testNow)
	var got []string
	for _, r := range f.Rows {
		s := r.Req.Person.PrisonNumber
		for _, p := range r.Problems {
			s += " " + ProblemText(r.Line, p)
		}
		got = append(got, strings.TrimSpace(s))
	}
	want := []string{"A1234BC", "B2345CD",
		`C3456DE line 6, column "local_authority": must be plain text: no control characters or text-direction overrides`,
		"line 8: has 3 values, but the header row names 25 columns",
		`A1234BC line 9, column "booking": repeats the prison number and booking of line 2: one case per person and booking`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rows\n%q\nwant\n%q", got, want)
	}
	if f.Rows[2].Line != 6 || f.Rows[2].Req.Person.LocalAuthority != "Kingston upon\nThames" || f.LastLine != 9 {
		t.Errorf("the quoted row: line %d, %q; last line %d", f.Rows[2].Line, f.Rows[2].Req.Person.LocalAuthority, f.LastLine)
	}
	// A header as people write it, in another order, with a byte order mark.
	f, err = parseImportFile([]byte("\xef\xbb\xbfTeam,Prison Number,booking,Given name,family-name,date_of_birth,ESTABLISHMENT,received_on,CRD\n" +
		"pvi-resettlement,A1234BC,1,Sam,Example,1990-05-17,PVI,2026-02-01,2026-06-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	checkRows(f.Rows, testNow)
	if r := f.Rows[0]; len(r.Problems) > 0 || r.Req.Team != "pvi-resettlement" || r.Req.Dates.CRD != resettlement.D(2026, 6, 1) {
		t.Errorf("row %+v", r)
	}
}

// The template is the file in docs, names every column, and its rows are
// good.
func TestImportTemplate(t *testing.T) {
	doc, err := os.ReadFile("../../docs/import-template.csv")
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != ImportTemplate {
		t.Errorf("docs/import-template.csv is not casework.ImportTemplate:\n%s", doc)
	}
	if first, _, _ := strings.Cut(ImportTemplate, "\n"); first != ImportHeader() {
		t.Errorf("the template's header %q, want %q", first, ImportHeader())
	}
	for i, p := range problemsOf(t, ImportTemplate) {
		if len(p) > 0 {
			t.Errorf("template row %d: %q", i+1, p)
		}
	}
}
