package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/casework"
)

// TestDecodeDates checks the API takes a sentence date wherever it takes
// release dates, and refuses contradictory dates with a 422 naming the date.
func TestDecodeDates(t *testing.T) {
	withSentence := strings.Replace(goodOpen, `"received_on":"2026-02-01"`, `"received_on":"2026-02-01","sentence_date":"2026-01-20"`, 1)
	req, err := decodeOpenCase([]byte(withSentence), fuzzNow)
	if err != nil || req.SentenceDate.String() != "2026-01-20" {
		t.Fatalf("an open with a sentence date: %+v, %v", req.SentenceDate, err)
	}
	if err := decodeCommand[casework.ChangeReleaseDates]([]byte(`{"release_dates":{"crd":"2026-06-01"},"sentence_date":"2026-01-20","reason":"recalculation"}`)); err != nil {
		t.Errorf("a change of dates with a sentence date: %v", err)
	}
	if err := decodeCommand[casework.Reset]([]byte(`{"reason":"recall","received_on":"2026-02-01","sentence_date":"2026-01-20","release_dates":{"prrd":"2026-06-01"}}`)); err != nil {
		t.Errorf("a reset with a sentence date: %v", err)
	}
	for _, c := range []struct{ name, body, field string }{
		{"HDCAD after CRD", strings.Replace(goodOpen, `{"crd":"2026-06-01"}`, `{"crd":"2026-06-01","hdcad":"2026-06-15"}`, 1), "release_dates.hdcad"},
		{"PED after CRD", strings.Replace(goodOpen, `{"crd":"2026-06-01"}`, `{"crd":"2026-06-01","ped":"2026-06-15"}`, 1), "release_dates.ped"},
		{"CRD after SED", strings.Replace(goodOpen, `{"crd":"2026-06-01"}`, `{"crd":"2026-06-01","sed":"2026-05-31"}`, 1), "release_dates.crd"},
		{"target before reception", strings.Replace(goodOpen, `{"crd":"2026-06-01"}`, `{"crd":"2026-01-31"}`, 1), "release_dates"},
		{"sentence date in the future", strings.Replace(withSentence, `"2026-01-20"`, `"2026-03-03"`, 1), "sentence_date"},
		{"sentence date after the target", strings.Replace(withSentence, `"2026-01-20"`, `"2026-06-02"`, 1), "sentence_date"},
		{"sentence date not a date", strings.Replace(withSentence, `"2026-01-20"`, `"20 January"`, 1), "sentence_date"},
	} {
		_, err := decodeOpenCase([]byte(c.body), fuzzNow)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		checkRejection(t, err)
		e, _ := casework.ErrorOf(err)
		found := false
		for _, f := range e.Fields {
			found = found || f.Field == c.field
		}
		if !found {
			t.Errorf("%s: fields %+v, want %s", c.name, e.Fields, c.field)
		}
		if got := casework.Status(err); got != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", c.name, got)
		}
	}
}
