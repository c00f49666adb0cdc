package drill

import (
	"strings"
	"testing"
)

func TestInterpolateFollowsTheComposeSpecification(t *testing.T) {
	vars := map[string]string{"SET": "value", "EMPTY": ""}
	for _, c := range []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${SET}", "value", ""},
		{"$SET/x", "value/x", ""},
		{"${UNSET}", "", ""},
		{"${UNSET:-fallback}", "fallback", ""},
		{"${EMPTY:-fallback}", "fallback", ""},
		{"${EMPTY-fallback}", "", ""},
		{"${UNSET-fallback}", "fallback", ""},
		{"${SET:-fallback}", "value", ""},
		{"${UNSET:-${SET}}", "value", ""},
		{"${SET:+alt}", "alt", ""},
		{"${EMPTY:+alt}", "", ""},
		{"${EMPTY+alt}", "alt", ""},
		{"$$SET", "$SET", ""},
		{"a@${SET}:5432/db", "a@value:5432/db", ""},
		{"${UNSET:?set UNSET in deploy/.env}", "", "set UNSET in deploy/.env"},
		{"${EMPTY:?needed}", "", "needed"},
		{"${EMPTY?needed}", "", ""},
		{"${SET", "", "unterminated"},
	} {
		got, err := interpolate(c.in, vars)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one saying %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// The harness reads deploy/compose.yaml itself; a variable the file
// requires and the harness does not give is an error naming it.
func TestReadComposeNamesAMissingVariable(t *testing.T) {
	_, err := ReadCompose("../deploy/compose.yaml", map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "required variable") {
		t.Errorf("compose.yaml with no variables: %v", err)
	}
}
