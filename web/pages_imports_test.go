package web

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
)

// The caseload pages render: the upload form with a problem beside the
// file, the report of a checked file with each problem by line and column
// and the button to open the cases, and a running import's "n of m".
func TestImportPagesRender(t *testing.T) {
	a := &site{Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	list := importsPage{Problem: "The file's header row does not name the columns.", Imports: []importSummary{
		{ID: "imp0000001", FileName: "march.csv", Created: "2 Mar 2026, 09:30", Status: importStatusLabel(postgres.ImportRunning), Done: 40, ToDo: 50}}}
	html := renderPage(t, a, "imports", pageData{Title: "Load a caseload", Section: "imports", Data: list,
		Summary: []summaryItem{{Href: "#file", Text: list.Problem}}})
	checkPage(t, "imports", html)
	for _, want := range []string{`enctype="multipart/form-data"`, `id="file" name="file" type="file"`, `aria-describedby="file-error"`,
		`href="/imports/template.csv"`, `href="/imports/imp0000001"`, "40 of 50", "Opening cases"} {
		if !strings.Contains(html, want) {
			t.Errorf("imports: no %q", want)
		}
	}

	created := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	checked := importPage{Name: "march.csv", Checked: true, R: casework.ImportReport{ID: "imp0000001", Status: postgres.ImportChecked,
		CreatedAt: &created, Check: casework.ImportCheck{Rows: 50, Invalid: 2, WouldOpen: 47, AlreadyOpen: 1}},
		Rows: []importRowLine{
			{Line: 7, PrisonNumber: "A1234BC", Status: postgres.RowInvalid, Label: "Not opened: problems", Colour: "red",
				Problems: []string{`Column "crd": must be a date such as 2026-03-12 or 12/03/2026.`}},
			{Line: 9, PrisonNumber: "B2345CD", Status: postgres.RowAlreadyOpen, Label: "Already open", Colour: "blue", CaseID: "k3m9x2p7qa"},
		}, NextAfter: 9}
	html = renderPage(t, a, "import", pageData{Title: "Load a caseload: march.csv", Data: checked})
	checkPage(t, "import checked", html)
	for _, want := range []string{"Nothing has been opened yet", `action="/imports/imp0000001/start"`, "Open 47 cases", `id="line-7"`,
		`Column &#34;crd&#34;: must be a date`, `href="/cases/k3m9x2p7qa"`, `href="/imports/imp0000001?after=9"`} {
		if !strings.Contains(html, want) {
			t.Errorf("checked: no %q", want)
		}
	}

	running := importPage{Name: "march.csv", Running: true, Done: 20, ToDo: 48, Percent: 41, R: casework.ImportReport{ID: "imp0000001",
		Status: postgres.ImportRunning, Check: checked.R.Check, Progress: &casework.ImportProgress{ToDo: 48, Done: 20, Opened: 19, AlreadyOpen: 1}}}
	html = renderPage(t, a, "import", pageData{Title: "Load a caseload: march.csv", Data: running})
	checkPage(t, "import running", html)
	for _, want := range []string{"Rows dealt with: 20 of 48", `<progress id="progress" max="48" value="20"`, "reloads itself", "None: every row"} {
		if !strings.Contains(html, want) {
			t.Errorf("running: no %q", want)
		}
	}
	if strings.Contains(html, "/start") {
		t.Error("a running import offers to start")
	}
}
