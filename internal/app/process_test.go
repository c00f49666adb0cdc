package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// LOG_FORMAT=json writes one JSON object a line; text is key=value.
func TestLoggerFormats(t *testing.T) {
	var b bytes.Buffer
	newLogger(&b, "info", "json").Info("case opened", "case", "k3m9x2p4qa")
	newLogger(&b, "info", "json").Debug("not at info")
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatalf("%v: %q", err, b.String())
	}
	if line["msg"] != "case opened" || line["case"] != "k3m9x2p4qa" || line["level"] != "INFO" {
		t.Errorf("json line %v", line)
	}
	b.Reset()
	newLogger(&b, "debug", "text").Debug("case opened", "case", "k3m9x2p4qa")
	if !strings.Contains(b.String(), `level=DEBUG msg="case opened" case=k3m9x2p4qa`) {
		t.Errorf("text line %q", b.String())
	}
}
