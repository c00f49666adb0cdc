package api

import (
	"encoding/json"
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
}

// writeProblem sends a problem document.
func writeProblem(w http.ResponseWriter, status int, detail string, fields ...resettlement.FieldError) {
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON sends a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
