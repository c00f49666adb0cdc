package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/throughgate/throughgate/resettlement"
)

// Problem is an RFC 9457 problem document. Errors lists each field at fault.
type Problem struct {
	Type   string                    `json:"type"`
	Title  string                    `json:"title"`
	Status int                       `json:"status"`
	Detail string                    `json:"detail,omitempty"`
	Errors []resettlement.FieldError `json:"errors,omitempty"`
	// CaseID names the existing case when a second open case is refused
	// and the caller may see it.
	CaseID string `json:"case_id,omitempty"`
}

// problemError is a problem a handler returns instead of writing it.
type problemError struct {
	status int
	detail string
	fields []resettlement.FieldError
	caseID string
}

func (p *problemError) Error() string { return p.detail }

func problem(status int, detail string, fields ...resettlement.FieldError) *problemError {
	return &problemError{status: status, detail: detail, fields: fields}
}

// fieldProblem is a 422 naming the fields at fault.
func fieldProblem(errs resettlement.Errors) *problemError {
	return problem(http.StatusUnprocessableEntity, "The request has problems: see errors for each field.", errs...)
}

// writeProblem sends a problem document.
func writeProblem(w http.ResponseWriter, status int, detail string, fields ...resettlement.FieldError) {
	writeProblemDoc(w, Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields})
}

func writeProblemDoc(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeErr sends a problemError as it is, or a 500 for anything else
// (logged by the caller, never shown: it may hold internals).
func writeErr(w http.ResponseWriter, err error) {
	var p *problemError
	if errors.As(err, &p) {
		writeProblemDoc(w, Problem{Type: "about:blank", Title: http.StatusText(p.status), Status: p.status,
			Detail: p.detail, Errors: p.fields, CaseID: p.caseID})
		return
	}
	writeProblem(w, http.StatusInternalServerError, "Something went wrong on our side. Try again; if it keeps happening, tell the service desk.")
}

// writeJSON sends a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
