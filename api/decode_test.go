package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/casework"
)

var fuzzNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// checkRejection asserts a rejection is a problem+json document naming the
// field at fault.
func checkRejection(t *testing.T, p error) {
	t.Helper()
	status := casework.Status(p)
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
	default:
		t.Fatalf("status %d for a bad body: %v", status, p)
	}
	rec := httptest.NewRecorder()
	writeError(rec, p)
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q", ct)
	}
	var doc Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("problem is not JSON: %v", err)
	}
	if doc.Status != status || doc.Detail == "" || len(doc.Errors) == 0 {
		t.Fatalf("problem %+v", doc)
	}
	for _, e := range doc.Errors {
		if e.Field == "" || e.Message == "" {
			t.Fatalf("an error without its field: %+v", doc)
		}
	}
}

const goodOpen = `{"person":{"prison_number":"A1234BC","booking":"1","given_name":"Sam","family_name":"Example","date_of_birth":"1990-05-17"},
"establishment":"PVI","team":"pvi-resettlement","received_on":"2026-02-01","release_dates":{"crd":"2026-06-01"}}`

func TestDecodeOpenCase(t *testing.T) {
	if _, p := decodeOpenCase([]byte(goodOpen), fuzzNow); p != nil {
		t.Fatalf("good body refused: %+v", p)
	}
	for _, c := range []struct{ body, field string }{
		{`{`, "body"},
		{`[]`, "body"},
		{`{"person":{"prison_number":"12345"}}`, "person.prison_number"},
		{strings.Replace(goodOpen, `"1990-05-17"`, `"17/05/1990"`, 1), "person.date_of_birth"},
		{strings.Replace(goodOpen, `"2026-06-01"`, `"2026-13-01"`, 1), "release_dates.crd"},
		{strings.Replace(goodOpen, `"2026-06-01"`, `20260601`, 1), "release_dates.crd"},
		{strings.Replace(goodOpen, `"establishment"`, `"establishmnt"`, 1), "establishmnt"},
		{strings.Replace(goodOpen, `"booking":"1"`, `"booking":1`, 1), "person.booking"},
		{strings.Replace(goodOpen, `"2026-02-01"`, `"2099-02-01"`, 1), "received_on"},
		{goodOpen + `{}`, "body"},
		{strings.Replace(goodOpen, `"2026-02-01"`, `"1899-12-31"`, 1), "received_on"},
		{strings.Replace(goodOpen, `"2026-02-01"`, `"1990-05-16"`, 1), "received_on"},
		{strings.Replace(goodOpen, `"Sam"`, `"Sam\u202eelpmaxe"`, 1), "person.given_name"},
		{strings.Replace(goodOpen, `"Example"`, `"Ex\u2067ample"`, 1), "person.family_name"},
		{strings.Replace(goodOpen, `"Sam"`, `"Sam\u0085"`, 1), "person.given_name"},
		{strings.Replace(goodOpen, `"booking":"1"`, `"booking":"1\u001b"`, 1), "person.booking"},
	} {
		_, p := decodeOpenCase([]byte(c.body), fuzzNow)
		if p == nil {
			t.Errorf("%s: accepted", c.body)
			continue
		}
		checkRejection(t, p)
		e, _ := casework.ErrorOf(p)
		found := false
		for _, f := range e.Fields {
			found = found || f.Field == c.field
		}
		if !found {
			t.Errorf("%.60s…: fields %+v, want %s", c.body, e.Fields, c.field)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"note":"`+strings.Repeat("x", MaxBody)+`"}`))
	r.Header.Set("Content-Type", "application/json")
	_, p := readBody(r)
	if p == nil || casework.Status(p) != http.StatusRequestEntityTooLarge {
		t.Fatalf("%+v", p)
	}
	checkRejection(t, p)
}

// FuzzDecodeRequests runs arbitrary bytes through the decoding and checking
// of every request body the API takes: none may panic, and every rejection
// must be a problem naming a field.
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range []string{goodOpen, `{}`, `{"action":"complete","note":"x"}`, `{"needs":[{"pathway":"health","status":"done"}]}`,
		`{"release_dates":{"crd":"2026-01-01"},"reason":"other"}`, `{"owner":{"staff":"a","team":"b"}}`, `{"items":[{"case_id":"x"}]}`,
		`{"q":"A1234BC","limit":5}`, `null`, `{"note":"\u0000"}`, `{"person":{"date_of_birth":7}}`,
		strings.Replace(goodOpen, `"Sam"`, `"S\u202eam\u2069"`, 1), strings.Replace(goodOpen, `"2026-02-01"`, `"0001-01-01"`, 1),
		`{"q":"x","cursor":"eyJyIjoiMDAwMC0wMS0wMSIsImkiOiJhYmMifQ"}`,
		`{"code":"123456"}`, `{"code":"abcd-efgh-jkmn-pqrs"}`, `{"code":""}`, `{"code":123456}`,
		`{"prison_number":"a1234bc","format":"csv"}`, `{"case_id":"k3m9x2p4qa","prison_number":"A1234BC"}`, `{"case_id":"../x","format":"xml"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(p error) {
			if p != nil {
				checkRejection(t, p)
			}
		}
		_, p := decodeOpenCase(b, fuzzNow)
		check(p)
		check(decodeCommand[casework.RecordAssessment](b))
		check(decodeCommand[casework.ActOnStep](b))
		check(decodeCommand[casework.Assign](b))
		check(decodeCommand[casework.ChangeReleaseDates](b))
		check(decodeCommand[casework.Transfer](b))
		check(decodeCommand[casework.Pause](b))
		check(decodeCommand[casework.Resume](b))
		check(decodeCommand[casework.Reset](b))
		check(decodeCommand[casework.Close](b))
		var s CaseSearch
		if p = decodeBytes(b, &s); p == nil {
			p = s.Check(fuzzNow)
		}
		check(p)
		var rb ReassignBody
		check(decodeBytes(b, &rb))
		var code MFACodeBody // two-step sign-in: verify, confirm, disable, new recovery codes
		if p = decodeBytes(b, &code); p == nil {
			p = code.Check()
		}
		check(p)
		var sar casework.SubjectAccessRequest // subject access export
		if p = decodeBytes(b, &sar); p == nil {
			p = sar.Check()
		}
		check(p)
	})
}

// decodeOpenCase decodes and checks a request to open a case as the API
// and the service do before the database is asked.
func decodeOpenCase(b []byte, now time.Time) (casework.OpenRequest, error) {
	var req casework.OpenRequest
	if err := decodeBytes(b, &req); err != nil {
		return req, err
	}
	return req, req.Check(now)
}

// decodeCommand decodes an action's body and checks it as far as the API
// does before the case is asked.
func decodeCommand[C casework.Command](b []byte) error {
	var c C
	if err := decodeBytes(b, &c); err != nil {
		return err
	}
	return casework.CheckCommand(c)
}
