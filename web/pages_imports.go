package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Loading a caseload from a CSV file (casework.CreateImport): the upload
// form and the person's imports (/imports); the upload stores the file
// checked, not started, and shows its report (/imports/{id}: every row with
// problems, by line and column, and the rows already open); "Open the
// cases" starts it; the same page then shows its progress, "n of m", and
// reloads itself every few seconds (a Refresh header, so without
// JavaScript) until every row is dealt with.

type importsPage struct {
	Imports []importSummary
	Problem string // the upload's problem, beside the file input
}

type importSummary struct {
	ID, FileName, Created, Status string
	Done, ToDo                    int
}

type importPage struct {
	R                          casework.ImportReport
	Name                       string
	Checked, Running, Finished bool
	Done, ToDo, Percent        int
	Rows                       []importRowLine
	After, NextAfter           int
}

type importRowLine struct {
	Line                  int
	PrisonNumber, CaseID  string
	Status, Label, Colour string
	Problems              []string
}

// importRefresh is how often, in seconds, a running import's page reloads.
const importRefresh = 3

func (a *site) pageImports(w http.ResponseWriter, r *http.Request) error {
	return a.renderImports(w, r, http.StatusOK, "")
}

func (a *site) renderImports(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	p := auth.FromContext(r.Context())
	list, err := a.Cases.ListImports(r.Context(), p)
	if err != nil {
		return err
	}
	page := importsPage{Problem: problem}
	for _, im := range list {
		s := importSummary{ID: im.ID, FileName: im.FileName, Status: importStatusLabel(im.Status)}
		if im.CreatedAt != nil {
			s.Created = showTime(*im.CreatedAt)
		}
		if im.Progress != nil {
			s.Done, s.ToDo = im.Progress.Done, im.Progress.ToDo
		}
		page.Imports = append(page.Imports, s)
	}
	d := pageData{Title: "Load a caseload", Section: "imports", Data: page}
	if problem != "" {
		d.Summary = []summaryItem{{Href: "#file", Text: problem}}
	}
	a.render(w, r, status, "imports", d)
	return nil
}

func importStatusLabel(s string) string {
	switch s {
	case postgres.ImportChecked:
		return "Checked: not started"
	case postgres.ImportRunning:
		return "Opening cases"
	case postgres.ImportDone:
		return "Done"
	}
	return s
}

// pageImportUpload stores the uploaded file as a checked import and shows
// its report; a file refused whole (not CSV, too large, a column missing)
// shows the form again saying why.
func (a *site) pageImportUpload(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.MayImport(p); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, casework.MaxImportBytes+64<<10)
	file, name, err := readPageUpload(r)
	if err == nil {
		var rep casework.ImportReport
		rep, _, err = a.Cases.CreateImport(r.Context(), p, file, name, "", false)
		if err == nil {
			http.Redirect(w, r, "/imports/"+rep.ID, http.StatusSeeOther)
			return nil
		}
	}
	e, ok := casework.ErrorOf(err)
	if !ok || e.Kind == casework.Forbidden || e.Kind == casework.Unavailable {
		return err
	}
	msg := e.Detail
	if len(e.Fields) > 0 {
		msg = errorText(e.Fields)
	}
	return a.renderImports(w, r, casework.Status(err), msg)
}

// readPageUpload reads the form's file (the part "file").
func readPageUpload(r *http.Request) ([]byte, string, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", casework.Errorf(casework.Malformed, "The upload could not be read. Choose the file and send it again.")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", uploadError(err)
		}
		if part.FormName() != "file" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, casework.MaxImportBytes+1))
		if err != nil {
			return nil, "", uploadError(err)
		}
		if len(b) == 0 && part.FileName() == "" {
			break
		}
		return b, part.FileName(), nil
	}
	return nil, "", casework.FieldsError(resettlement.Errors{{Field: "file", Message: "is required: choose the CSV file to load"}})
}

func uploadError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return casework.Errorf(casework.TooLarge, "The file is larger than 20 MiB: split it into smaller files.")
	}
	if errors.Is(err, multipart.ErrMessageTooLarge) {
		return casework.Errorf(casework.TooLarge, "The upload is too large.")
	}
	return casework.Errorf(casework.Malformed, "The upload could not be read. Choose the file and send it again.")
}

func (a *site) pageImport(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	after := 0
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return casework.Errorf(casework.Invalid, "That is not a page of this import's rows.")
		}
		after = n
	}
	rep, err := a.Cases.ViewImport(r.Context(), p, chi.URLParam(r, "importID"), casework.ImportRowQuery{After: after, Notable: true})
	if err != nil {
		return err
	}
	page := importPage{R: rep, Name: rep.FileName, Checked: rep.Status == postgres.ImportChecked, Running: rep.Status == postgres.ImportRunning,
		Finished: rep.Status == postgres.ImportDone, After: after, NextAfter: rep.NextAfter}
	if page.Name == "" {
		page.Name = "Import " + rep.ID
	}
	if rep.Progress != nil {
		page.Done, page.ToDo = rep.Progress.Done, rep.Progress.ToDo
		if page.ToDo > 0 {
			page.Percent = page.Done * 100 / page.ToDo
		} else {
			page.Percent = 100
		}
	}
	for _, row := range rep.Rows {
		line := importRowLine{Line: row.Line, PrisonNumber: row.PrisonNumber, CaseID: row.CaseID, Status: row.Status}
		line.Label, line.Colour = importRowLabel(row.Status)
		for _, pr := range row.Problems {
			if pr.Column == "" {
				line.Problems = append(line.Problems, "The row "+pr.Message+".")
			} else {
				line.Problems = append(line.Problems, fmt.Sprintf("Column %q: %s.", pr.Column, pr.Message))
			}
		}
		page.Rows = append(page.Rows, line)
	}
	if page.Running {
		// Reloads itself until done: the Refresh header, which browsers
		// treat as <meta http-equiv="refresh">, needs no JavaScript.
		w.Header().Set("Refresh", strconv.Itoa(importRefresh))
	}
	a.render(w, r, http.StatusOK, "import", pageData{Title: "Load a caseload: " + page.Name, Section: "imports", Data: page})
	return nil
}

func importRowLabel(status string) (label, colour string) {
	switch status {
	case postgres.RowInvalid:
		return "Not opened: problems", "red"
	case postgres.RowFailed:
		return "Refused", "red"
	case postgres.RowAlreadyOpen:
		return "Already open", "blue"
	case postgres.RowOpened:
		return "Opened", "green"
	}
	return "Waiting", "grey"
}

func (a *site) pageImportStart(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	id := chi.URLParam(r, "importID")
	rep, err := a.Cases.StartImport(r.Context(), auth.FromContext(r.Context()), id)
	if err != nil {
		return err
	}
	msg := "The import has started: its cases open in the background. This page follows it."
	if rep.Progress != nil && rep.Progress.ToDo == 0 {
		msg = "The import has no rows to open."
	}
	a.redirectWith(w, r, "/imports/"+rep.ID, msg)
	return nil
}

// pageImportTemplate sends the template caseload file.
func (a *site) pageImportTemplate(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="caseload-template.csv"`)
	_, _ = io.WriteString(w, casework.ImportTemplate)
	return nil
}
