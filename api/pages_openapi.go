package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// The pages are part of the HTTP surface, so the OpenAPI document describes
// them too (as text/html operations under the tag "pages"). They are kept
// in pages_openapi.json beside the pages and merged into OpenAPI when the
// package loads, leaving the API's own document as it is written.

//go:embed pages_openapi.json
var pagesOpenAPI []byte

func init() {
	merged, err := mergePaths(OpenAPI, pagesOpenAPI)
	if err != nil {
		panic(fmt.Sprintf("api/pages_openapi.json: %v", err))
	}
	OpenAPI = merged
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
