package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
)

// The OpenAPI 3.1 document, kept by hand beside the code: a test checks
// every route is in it with an operationId and the 4xx answers it can give,
// and the integration tests check every response they get against it.
//
// The pages are part of the HTTP surface too, so the document describes
// them (as text/html operations under the tag "pages"); they are kept in
// pages_openapi.json and merged in as the package loads.
var (
	//go:embed openapi.json
	apiDocument []byte
	//go:embed pages_openapi.json
	pagesDocument []byte

	// OpenAPI is the whole document, served at /api/v1/openapi.json.
	OpenAPI = mustMergePaths(apiDocument, pagesDocument)
)

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(OpenAPI)
}

func mustMergePaths(doc, extra []byte) []byte {
	merged, err := mergePaths(doc, extra)
	if err != nil {
		panic(fmt.Sprintf("api/pages_openapi.json: %v", err))
	}
	return merged
}

// mergePaths adds the paths of extra to doc, refusing a path both define.
func mergePaths(doc, extra []byte) ([]byte, error) {
	var d map[string]json.RawMessage
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	var paths map[string]json.RawMessage
	if err := json.Unmarshal(d["paths"], &paths); err != nil {
		return nil, err
	}
	var x struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(extra, &x); err != nil {
		return nil, err
	}
	for p, item := range x.Paths {
		if _, dup := paths[p]; dup {
			return nil, fmt.Errorf("path %s is in both documents", p)
		}
		paths[p] = item
	}
	b, err := json.Marshal(paths)
	if err != nil {
		return nil, err
	}
	d["paths"] = b
	return json.MarshalIndent(d, "", "  ")
}
