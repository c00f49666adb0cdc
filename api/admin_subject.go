package api

import (
	"net/http"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
)

// exportSubjectAccess is POST /api/v1/admin/subject-access: everything
// held about one person, named in the body (never the URL) by a case id or
// a prison number, as JSON or CSV, for an administrator answering a
// subject access request. The service refuses anyone else and audits the
// export (casework.Service.SubjectAccess).
func (a *app) exportSubjectAccess(w http.ResponseWriter, r *http.Request) error {
	var req casework.SubjectAccessRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	x, err := a.Cases.SubjectAccess(r.Context(), auth.FromContext(r.Context()), req)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	if x.Format != "csv" {
		return writeJSON(w, http.StatusOK, x)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	name := "subject-access.csv" // a person held under no case: only events or import rows
	if len(x.Cases) > 0 {
		name = "subject-access-" + x.Cases[0].Case.ID + ".csv"
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := x.WriteCSV(w); err != nil {
		a.Logger.ErrorContext(r.Context(), "subject access export cut short", "err", err)
	}
	return nil
}
