package config

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// unmarshalStrict decodes JSON, refusing unknown fields so a misspelt
// policy setting is an error rather than silently the default.
func unmarshalStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a valid policy: %w", err)
	}
	return nil
}
