package integration

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// caseloadRow is one good row of a caseload file at a prison, for the
// prison number given: received a month ago, due out in three months or
// so, with an HDC eligibility date and sentence and licence expiry.
func caseloadRow(prisonNumber, establishment, team string, today resettlement.Date, i int) []string {
	crd := today.AddDays(80 + i%60)
	return []string{prisonNumber, "1", "Sam", fmt.Sprintf("Example-%d", i), resettlement.D(1980, 1, 1).AddDays(i % 5000).String(), "Islington",
		establishment, team, "", today.AddDays(-30).String(), "", crd.String(), "", "", "", "", crd.AddDays(-30).String(), "", "", "", "",
		crd.AddDays(365).String(), crd.AddDays(365).String(), "", ""}
}

// caseloadFile is the template's header and the rows.
func caseloadFile(rows [][]string) []byte {
	var b strings.Builder
	b.WriteString(casework.ImportHeader() + "\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return []byte(b.String())
}

// goodRows are n good rows at Pentonville, prison numbers from a letter.
func goodRows(letter string, n int, today resettlement.Date) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = caseloadRow(fmt.Sprintf("%s%04dAA", letter, i), "PVI", "pvi-resettlement", today, i)
	}
	return rows
}

// postCSV sends a caseload file to POST /api/v1/imports as text/csv.
func postCSV(c *apiClient, query string, file []byte, header map[string]string) response {
	c.t.Helper()
	h := map[string]string{"Content-Type": "text/csv"}
	for k, v := range header {
		h[k] = v
	}
	return c.do("POST", "/api/v1/imports"+query, file, h)
}

// postMultipart sends it as the part "file" of a form, as a browser does.
func postMultipart(c *apiClient, file []byte, name, key string) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	return c.do("POST", "/api/v1/imports", body.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType(), "Idempotency-Key": key})
}

// awaitImport polls the import until every row is dealt with.
func awaitImport(t *testing.T, c *apiClient, id string, within time.Duration) api.ImportReport {
	t.Helper()
	var rep api.ImportReport
	waitFor(t, "import "+id+" to finish", within, func() bool {
		r := c.do("GET", "/api/v1/imports/"+id+"?status=failed", nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET import: %d %s", r.status, r.body)
		}
		rep = api.ImportReport{}
		r.decode(t, &rep)
		return rep.Status == postgres.ImportDone
	})
	return rep
}

// TestImportCaseload loads a caseload of 50 rows, four of them bad and one
// of a person already with an open case, through the API: the dry run
// reports each problem by line and column and stores nothing; bad files
// are refused whole, naming what is wrong; the import opens the 45 good
// rows in the background, as the officer and audited, with its progress
// to follow; the same upload retried is the same import; and the same file
// imported again opens nothing new.
func TestImportCaseload(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	openDemoCase(t, d, "I0007AA", resettlement.ReleaseDates{CRD: today.AddDays(90)}, today.AddDays(-3))
	// 50 rows (line = index + 2): I0000AA to I0048AA, I0007AA's person
	// already with an open case, and four bad rows.
	good := goodRows("I", 49, today)
	noBirth := caseloadRow("K0001AA", "PVI", "pvi-resettlement", today, 99)
	noBirth[4] = ""
	rows := append(append(append([][]string{}, good[:10]...), noBirth), good[10:]...) // line 12: no date of birth
	rows[20][0] = "I-0019"                                                            // line 22: not a prison number
	rows[30][6], rows[30][7] = "BXI", "bxi-resettlement"                              // line 32: another prison's team
	rows[40][17] = today.AddDays(200).String()                                        // line 42: curfew after the CRD
	file := caseloadFile(rows)
	cases := func() int { return sqlInt(t, d, `select count(*) from cases`) }
	before := cases()
	off := signIn(t, d, "officer-1")

	// The dry run.
	var dry api.ImportReport
	off.want(postCSV(off, "?dry_run=true", file, nil), http.StatusOK, "dry run").decode(t, &dry)
	if want := (casework.ImportCheck{Rows: 50, Invalid: 4, WouldOpen: 45, AlreadyOpen: 1}); dry.Check != want || dry.Status != casework.StatusDryRun {
		t.Errorf("dry run %+v (%s), want %+v", dry.Check, dry.Status, want)
	}
	var said []string
	for _, r := range dry.Rows {
		for _, p := range r.Problems {
			said = append(said, casework.ProblemText(r.Line, p))
		}
		if r.Status == postgres.RowAlreadyOpen {
			said = append(said, fmt.Sprintf("line %d: already open (%t)", r.Line, r.CaseID != ""))
		}
	}
	want := []string{
		`line 9: already open (true)`,
		`line 12, column "date_of_birth": is required`,
		`line 22, column "prison_number": must be a prison number: a letter, four digits and two letters, such as A1234BC`,
		`line 32, column "team": is not a team you may open cases for: only your own establishment's or teams' people`,
		`line 42, column "hdcad": home detention curfew cannot be after the conditional release date`,
	}
	if strings.Join(said, "\n") != strings.Join(want, "\n") {
		t.Errorf("the dry run says\n%s\nwant\n%s", strings.Join(said, "\n"), strings.Join(want, "\n"))
	}

	// Files refused whole: nothing is stored or opened.
	wantProblem(t, off.do("POST", "/api/v1/imports", file, nil), http.StatusUnsupportedMediaType, "Content-Type", "a JSON upload")
	wantProblem(t, postCSV(off, "", []byte("prison_number,booking,given_name\nA1234BC,1,Sam\n"), nil), http.StatusUnprocessableEntity,
		"received_on", "a file without a required column")
	wantProblem(t, postCSV(off, "", []byte("PK\x03\x04 a workbook"), nil), http.StatusUnprocessableEntity, "file", "a workbook")
	wantProblem(t, postCSV(off, "", append(append([]byte{}, file...), bytes.Repeat([]byte("x"), casework.MaxImportBytes)...), nil),
		http.StatusRequestEntityTooLarge, "file", "a file over 20 MiB")
	wantProblem(t, postCSV(off, "?dry_run=maybe", file, nil), http.StatusUnprocessableEntity, "dry_run", "a bad dry_run")
	adm := signIn(t, d, "admin-1")
	adm.want(postCSV(adm, "", file, nil), http.StatusForbidden, "an administrator")
	if n := sqlInt(t, d, `select count(*) from imports`); n != 0 || cases() != before {
		t.Fatalf("refusals stored %d imports, opened %d cases", n, cases()-before)
	}

	// The import, as a browser uploads it.
	started := time.Now()
	r := off.want(postMultipart(off, file, "march.csv", "import-march-1"), http.StatusAccepted, "import")
	var rep api.ImportReport
	r.decode(t, &rep)
	if rep.ID == "" || r.header.Get("Location") != "/api/v1/imports/"+rep.ID || rep.FileName != "march.csv" || rep.Progress == nil || rep.Progress.ToDo != 46 {
		t.Fatalf("started: %s %+v", r.header.Get("Location"), rep)
	}
	var retried api.ImportReport
	off.want(postMultipart(off, file, "march.csv", "import-march-1"), http.StatusOK, "the same upload again").decode(t, &retried)
	if retried.ID != rep.ID {
		t.Errorf("a retry made import %s, not %s", retried.ID, rep.ID)
	}
	done := awaitImport(t, off, rep.ID, 3*time.Minute)
	took := time.Since(started)
	if p := done.Progress; p == nil || *p != (casework.ImportProgress{ToDo: 46, Done: 46, Opened: 45, AlreadyOpen: 1}) || len(done.Rows) != 0 {
		t.Fatalf("done: %+v, failed rows %+v", done.Progress, done.Rows)
	}
	t.Logf("45 cases opened in %s", took.Round(time.Millisecond))
	if n := cases() - before; n != 45 {
		t.Errorf("%d cases opened, want 45", n)
	}
	// Each row's outcome, a page at a time.
	var page api.ImportReport
	off.want(off.do("GET", "/api/v1/imports/"+rep.ID+"?limit=20&after=20", nil, nil), http.StatusOK, "a page").decode(t, &page)
	if len(page.Rows) != 20 || page.Rows[0].Line != 21 || page.NextAfter != 40 || page.Rows[0].Status != postgres.RowOpened || page.Rows[0].CaseID == "" ||
		page.Rows[1].Status != postgres.RowInvalid || page.Rows[1].Problems[0].Column != "prison_number" {
		t.Errorf("rows 21-40: next %d %+v", page.NextAfter, page.Rows[:2])
	}
	waitFor(t, "every imported case's workflow to save it", 2*time.Minute, func() bool {
		return sqlInt(t, d, `select count(*) from cases where opened_by = 'officer-1' and version > 0`) == 46 // and the demo case
	})
	opened := page.Rows[0].CaseID
	view := off.want(off.do("GET", "/api/v1/cases/"+opened, nil, nil), http.StatusOK, "an imported case")
	var c api.CaseView
	view.decode(t, &c)
	if c.Person.PrisonNumber != "I0018AA" || c.Team != "pvi-resettlement" || len(c.Steps) == 0 || c.ReleaseDates.HDCED.IsZero() {
		t.Errorf("the case of line 21: %+v", c)
	}
	if n := sqlInt(t, d, `select count(*) from audit where actor = 'officer-1' and action = 'case.open' and detail = 'created=true'`); n != 45 {
		t.Errorf("%d case.open audit lines by officer-1, want 45", n)
	}
	if n := sqlInt(t, d, `select count(*) from audit where actor = 'officer-1' and action in ('import.check', 'import.create', 'import.start', 'import.done')`); n != 4 {
		t.Errorf("%d import audit lines, want a check, a create, a start and a done", n)
	}
	off2 := signIn(t, d, "officer-2")
	off2.want(off2.do("GET", "/api/v1/imports/"+rep.ID, nil, nil), http.StatusNotFound, "someone else's import")

	// The same file again opens nothing new.
	var again api.ImportReport
	off.want(postCSV(off, "", file, nil), http.StatusAccepted, "the same file again").decode(t, &again)
	done = awaitImport(t, off, again.ID, 2*time.Minute)
	if again.ID == rep.ID || done.Check.WouldOpen != 0 || done.Check.AlreadyOpen != 46 || done.Progress.Opened != 0 || done.Progress.AlreadyOpen != 46 {
		t.Errorf("again: %+v %+v", done.Check, done.Progress)
	}
	if n := cases() - before; n != 45 {
		t.Errorf("the second import opened %d cases more", n-45)
	}

	// The command line, as `throughgate import cases FILE --by officer-2`.
	bxi := make([][]string, 10)
	for i := range bxi {
		bxi[i] = caseloadRow(fmt.Sprintf("J%04dAA", i), "BXI", "bxi-resettlement", today, i)
	}
	bxi[1][11] = "31/02/2027" // line 3
	name := filepath.Join(t.TempDir(), "brixton.csv")
	if err := os.WriteFile(name, caseloadFile(bxi), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := app.ImportCases(ctx, d.Cases, app.ImportOptions{File: name, By: "officer-2", DryRun: true}, &out)
	if err != nil || !res.Problems || res.Report.Check.WouldOpen != 9 ||
		!strings.Contains(out.String(), `line 3, column "crd": must be a date such as 2026-03-12 or 12/03/2026`) ||
		!strings.Contains(out.String(), "10 rows: 9 would open, 0 already open (skipped), 1 with problems") {
		t.Errorf("dry run: %v %+v\n%s", err, res, out.String())
	}
	if n := sqlInt(t, d, `select count(*) from cases where establishment = 'BXI'`); n != 0 {
		t.Errorf("the dry run opened %d cases", n)
	}
	out.Reset()
	res, err = app.ImportCases(ctx, d.Cases, app.ImportOptions{File: name, By: "officer-2", Poll: 200 * time.Millisecond}, &out)
	if err != nil || !res.Problems || res.Report.Progress.Opened != 9 || !strings.Contains(out.String(), "9 of 9 rows dealt with") ||
		!strings.Contains(out.String(), `line 3, column "crd"`) {
		t.Errorf("import: %v %+v\n%s", err, res, out.String())
	}
	t.Logf("the command line said:\n%s", out.String())
	if n := sqlInt(t, d, `select count(*) from cases where establishment = 'BXI' and opened_by = 'officer-2'`); n != 9 {
		t.Errorf("%d cases opened at BXI, want 9", n)
	}
	if _, err := app.ImportCases(ctx, d.Cases, app.ImportOptions{File: name, By: "nobody"}, &out); err == nil {
		t.Error("an import by nobody")
	}

	// The pages: upload, the report, open the cases, the progress.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "april.csv")
	fw.Write(caseloadFile(append(goodRows("P", 5, today), caseloadRow("P-1", "PVI", "pvi-resettlement", today, 9))))
	mw.Close()
	r = off.want(off.do("POST", "/imports", form.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()}), http.StatusSeeOther, "the upload page")
	at := r.header.Get("Location")
	if !strings.HasPrefix(at, "/imports/") {
		t.Fatalf("the upload went to %q", at)
	}
	html := string(off.want(off.do("GET", at, nil, nil), http.StatusOK, "the report").body)
	for _, want := range []string{"Nothing has been opened yet", "Open 5 cases", `Column &#34;prison_number&#34;: must be a prison number`, "april.csv"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report has no %q", want)
		}
	}
	if n := sqlInt(t, d, `select count(*) from cases where prison_number like 'P%'`); n != 0 {
		t.Errorf("the upload opened %d cases", n)
	}
	off.want(off.do("POST", at+"/start", "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), http.StatusSeeOther, "open the cases")
	waitFor(t, "the page to say the import is done", 2*time.Minute, func() bool {
		r := off.want(off.do("GET", at, nil, nil), http.StatusOK, "the progress")
		if strings.Contains(string(r.body), "Opening the cases") != (r.header.Get("Refresh") != "") {
			t.Errorf("a running import's page reloads itself, and only that: Refresh %q", r.header.Get("Refresh"))
		}
		return strings.Contains(string(r.body), "The import is done") && strings.Contains(string(r.body), "Rows dealt with: 5 of 5")
	})
	if n := sqlInt(t, d, `select count(*) from cases where prison_number like 'P%'`); n != 5 {
		t.Errorf("the page's import opened %d cases, want 5", n)
	}
	list := string(off.want(off.do("GET", "/imports", nil, nil), http.StatusOK, "the imports page").body)
	if !strings.Contains(list, "april.csv") || !strings.Contains(list, "march.csv") {
		t.Error("the imports page does not list the imports")
	}
	r = off.want(off.do("GET", "/imports/template.csv", nil, nil), http.StatusOK, "the template")
	if string(r.body) != casework.ImportTemplate {
		t.Error("the template is not casework.ImportTemplate")
	}
}

// TestImportResumesAfterACrash stops the whole stack mid-import and starts
// it again on the same data: the import's workflow carries on where it
// was, and every row is opened exactly once.
func TestImportResumesAfterACrash(t *testing.T) {
	dir := filepath.Join(tempDir(t), "data")
	d := startDev(t, devConfig(t, dir))
	stopped := false
	defer func() {
		if !stopped {
			d.Stop()
		}
	}()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	const n = 400
	p, err := d.Cases.ImportAs(ctx, "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := d.Cases.CreateImport(ctx, p, caseloadFile(goodRows("R", n, today)), "resume.csv", "", true)
	if err != nil {
		t.Fatal(err)
	}
	// Stop in the middle of a batch: cases opened whose rows are not yet
	// recorded (a batch records its rows as it ends).
	var st casework.ImportReport
	var opening int
	waitFor(t, "the import to be in the middle of a batch", 2*time.Minute, func() bool {
		st, err = d.Cases.ImportStatus(ctx, p, rep.ID)
		opening = sqlInt(t, d, `select count(*) from cases where prison_number like 'R%'`)
		return err == nil && st.Progress.Done >= 50 && opening > st.Progress.Done+5
	})
	if err := d.Stop(); err != nil {
		t.Logf("stop: %v", err)
	}
	stopped = true
	t.Logf("stopped with %d of %d rows recorded, at least %d cases in PostgreSQL", st.Progress.Done, n, opening)
	if st.Progress.Done >= n {
		t.Fatal("the import finished before the stack was stopped: nothing to resume")
	}

	d2 := startDev(t, devConfig(t, dir))
	defer d2.Stop()
	began := time.Now()
	var done casework.ImportReport
	waitFor(t, "the import to finish after the restart", 4*time.Minute, func() bool {
		done, err = d2.Cases.ImportStatus(ctx, p, rep.ID)
		return err == nil && done.Status == postgres.ImportDone
	})
	t.Logf("finished %s after the restart", time.Since(began).Round(time.Millisecond))
	if *done.Progress != (casework.ImportProgress{ToDo: n, Done: n, Opened: n}) {
		t.Errorf("progress %+v, want all %d opened", done.Progress, n)
	}
	if c := sqlInt(t, d2, `select count(*) from cases where prison_number like 'R%'`); c != n {
		t.Errorf("%d cases, want %d", c, n)
	}
	if c := sqlInt(t, d2, `select count(*) from (select prison_number from cases group by prison_number having count(*) > 1) x`); c != 0 {
		t.Errorf("%d people have two cases", c)
	}
	if c := sqlInt(t, d2, `select count(*) from import_rows r where import_id = $1 and r.status = 'opened'
		and r.case_id = (select id from cases c where c.open_request = 'officer-1:open:import-' || r.import_id || '-' || r.line)`, rep.ID); c != n {
		t.Errorf("%d rows name the case their key opened, want %d", c, n)
	}
	// Every case's workflow runs.
	waitFor(t, "every case's workflow to save it", 3*time.Minute, func() bool {
		return sqlInt(t, d2, `select count(*) from cases where prison_number like 'R%' and version > 0`) == n
	})
}

// TestImportRate measures the bulk path: THROUGHGATE_IMPORT_ROWS rows (say
// 3000) imported through the service as the command line does, timed
// from the start of the import to its last row dealt with, then to the
// last case's first save by its workflow. Skipped unless the variable is
// set.
func TestImportRate(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("THROUGHGATE_IMPORT_ROWS"))
	if n <= 0 {
		t.Skip("set THROUGHGATE_IMPORT_ROWS (e.g. 3000) to measure the import rate")
	}
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	name := filepath.Join(t.TempDir(), "caseload.csv")
	if err := os.WriteFile(name, caseloadFile(goodRows("S", n, today)), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := d.Cases.ImportAs(ctx, "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(name)
	began := time.Now()
	dry, err := d.Cases.CheckImport(ctx, p, data)
	if err != nil || dry.Check.WouldOpen != n {
		t.Fatalf("dry run: %v %+v", err, dry.Check)
	}
	t.Logf("dry run of %d rows: %s", n, time.Since(began).Round(time.Millisecond))
	var out bytes.Buffer
	began = time.Now()
	res, err := app.ImportCases(ctx, d.Cases, app.ImportOptions{File: name, By: "officer-1", Poll: 500 * time.Millisecond}, &out)
	if err != nil || res.Report.Progress.Opened != n {
		t.Fatalf("import: %v %+v\n%s", err, res.Report.Progress, out.String())
	}
	took := res.Report.FinishedAt.Sub(*res.Report.StartedAt)
	t.Logf("%d rows opened in %s: %.1f cases/s (the command's whole run %s)", n, took.Round(time.Millisecond),
		float64(n)/took.Seconds(), time.Since(began).Round(time.Millisecond))
	// The workers catch up with the workflows: each case's first run plans
	// it, raises its first alarms and saves it (SaveCase).
	saved := 0
	for deadline := time.Now().Add(15 * time.Minute); saved < n && time.Now().Before(deadline); time.Sleep(time.Second) {
		saved = sqlInt(t, d, `select count(*) from cases where prison_number like 'S%' and version > 0`)
	}
	all := time.Since(began)
	t.Logf("%d of %d cases saved by their workflows %s after the start: %.1f cases/s end to end", saved, n, all.Round(time.Millisecond),
		float64(saved)/all.Seconds())
}
