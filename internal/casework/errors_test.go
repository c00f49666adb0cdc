package casework

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Every failure a person can act on answers one status, whichever surface
// shows it; anything else is ours.
func TestStatus(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want int
	}{
		{"field errors", resettlement.Errors{{Field: "crd", Message: "is wrong"}}, http.StatusUnprocessableEntity},
		{"a domain conflict", resettlement.Conflict("the step is done"), http.StatusConflict},
		{"a closed case", ErrCaseClosed, http.StatusConflict},
		{"no workflow", fmt.Errorf("asking: %w", ErrCaseNotFound), http.StatusNotFound},
		{"engine timeout", context.DeadlineExceeded, http.StatusServiceUnavailable},
		{"out of scope", errNoCase, http.StatusNotFound},
		{"administrator", errAdminCase, http.StatusForbidden},
		{"no key", CheckKey(""), http.StatusBadRequest},
		{"a fault of ours", errors.New("connection reset"), http.StatusInternalServerError},
	} {
		if got := Status(c.err); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	for k := Invalid; k <= Unavailable; k++ {
		if _, ok := statuses[k]; !ok {
			t.Errorf("kind %d has no status", k)
		}
	}
}

// The domain's field errors keep their fields; one without a field is
// about the body as a whole.
func TestErrorOfNamesTheBody(t *testing.T) {
	e, ok := ErrorOf(resettlement.Errors{{Message: "is empty"}, {Field: "note", Message: "is too long"}})
	if !ok || e.Kind != Invalid || len(e.Fields) != 2 || e.Fields[0].Field != "body" || e.Fields[1].Field != "note" {
		t.Fatalf("%+v %v", e, ok)
	}
}

func TestParseBoardQuery(t *testing.T) {
	cursor := boardCursor(postgres.BoardKey{Order: resettlement.BoardOrder{Severity: resettlement.SeverityMedium, ReleaseGroup: 2,
		ReleaseDay: resettlement.NoDate, DueDate: resettlement.D(2027, 1, 13)}, CaseID: "k3m9x2p7qa", StepID: "housing-referral"})
	for _, c := range []struct {
		name, query string
		paged       bool
		fields      []string // at fault, in order; none when accepted
	}{
		{"no filters", "", true, nil},
		{"every filter", "establishment=PVI&team=pvi-resettlement&owner=officer-1&pathway=health&limit=20&cursor=" + cursor, true, nil},
		{"unknown filters, in name order", "zebra=1&apple=2", true, []string{"apple", "zebra"}},
		{"a cursor on the summary", "cursor=" + cursor, false, []string{"cursor"}},
		{"bad values", "establishment=Pentonville&pathway=housing&limit=500&cursor=40", true, []string{"establishment", "pathway", "limit", "cursor"}},
	} {
		q, _ := url.ParseQuery(c.query)
		_, err := ParseBoardQuery(q, c.paged)
		var got []string
		if e, ok := ErrorOf(err); ok {
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
		} else if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.fields) {
			t.Errorf("%s: fields at fault %v, want %v", c.name, got, c.fields)
		}
	}
}
