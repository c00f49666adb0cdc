package api

import (
	"encoding/json"
	"net/http"

	"github.com/throughgate/throughgate/internal/casework"
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

const faultDetail = "Something went wrong on our side. Try again; if it keeps happening, tell the service desk."

// ProblemOf is the problem document err answers with.
func ProblemOf(err error) Problem {
	status := casework.Status(err)
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: faultDetail}
	if e, ok := casework.ErrorOf(err); ok {
		p.Detail, p.Errors, p.CaseID = e.Detail, e.Fields, e.CaseID
	}
	return p
}

// WriteProblem sends a problem document with a status and a sentence; the
// server's own answers (not found, rate limited) use it too.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	writeProblemDoc(w, Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}

func writeError(w http.ResponseWriter, err error) { writeProblemDoc(w, ProblemOf(err)) }

func writeProblemDoc(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON sends a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return nil
}
