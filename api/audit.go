package api

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// AuditPage is a page of the audit log, newest first.
type AuditPage struct {
	Items      []postgres.AuditEntry `json:"items"`
	NextCursor string                `json:"next_cursor,omitempty"`
}

func readAuditFilter(q url.Values, paged bool) (postgres.AuditFilter, error) {
	f := postgres.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), CaseID: q.Get("case_id"), Limit: 100}
	var errs resettlement.Errors
	for k := range q {
		switch k {
		case "actor", "action", "case_id", "from", "to":
		case "cursor", "limit":
			if paged {
				continue
			}
			fallthrough
		default:
			errs.Add(k, "is not a filter of the audit log")
		}
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(t.name); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				d, derr := resettlement.ParseDate(v)
				if derr != nil {
					errs.Add(t.name, "must be a date (YYYY-MM-DD) or a time (RFC 3339)")
					continue
				}
				at = d.At(0)
			}
			*t.dst = at
		}
	}
	if len(f.Actor) > 100 || len(f.Action) > 100 {
		errs.Add("actor", "is too long")
	}
	if f.CaseID != "" && !resettlement.ValidID(f.CaseID) {
		errs.Add("case_id", "is not a case id")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs.Add("limit", "must be from 1 to 1000")
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs.Add("cursor", "is not a cursor the audit log gave")
		}
		f.Before = n
	}
	if len(errs) > 0 {
		return f, casework.FieldsError(errs)
	}
	return f, nil
}

func (a *app) listAudit(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	f, p := readAuditFilter(r.URL.Query(), true)
	if p != nil {
		return p
	}
	limit := f.Limit
	f.Limit++
	list, err := a.DB.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	out := AuditPage{Items: list}
	if len(list) > limit {
		out.Items = list[:limit]
		out.NextCursor = strconv.FormatInt(out.Items[limit-1].ID, 10)
	}
	if out.Items == nil {
		out.Items = []postgres.AuditEntry{}
	}
	// Reading the audit log is itself audited: what was asked, how much shown.
	if err := a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "audit.read", f.CaseID,
		f.String()+" shown="+strconv.Itoa(len(out.Items))); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// exportAudit streams the audit log as CSV, newest first, in pages.
func (a *app) exportAudit(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	f, p := readAuditFilter(r.URL.Query(), false)
	if p != nil {
		return p
	}
	if err := a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "audit.export", f.CaseID, f.String()); err != nil {
		return err
	}
	f.Limit = 1000
	first, err := a.DB.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="throughgate-audit.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "at", "actor", "action", "case_id", "detail", "remote"})
	page := first
	for len(page) > 0 {
		for _, e := range page {
			_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), casework.SpreadsheetSafe(e.Actor),
				casework.SpreadsheetSafe(e.Action), casework.SpreadsheetSafe(e.CaseID), casework.SpreadsheetSafe(e.Detail), casework.SpreadsheetSafe(e.Remote)})
		}
		cw.Flush()
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
		if page, err = a.DB.AuditLog(r.Context(), f); err != nil {
			a.Logger.ErrorContext(r.Context(), "audit export cut short", "err", err)
			return nil // the response has begun: it can only be cut short
		}
	}
	return nil
}
