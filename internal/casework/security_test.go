package casework

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 10: the holes these tests close each failed before its fix. Those
// that go through a case's workflow (idempotency keys, notes, assignment,
// the existence probe) run against the real dev stack, in
// integration/security_test.go; these need PostgreSQL at most.

// Inputs that used to pass (or to fail with a 500) are refused naming the
// field.
func TestOpenRequestRefusesUnsafeInput(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(r *OpenRequest)
		field string
	}{
		{"received before 1900", func(r *OpenRequest) { r.ReceivedOn = resettlement.D(1899, 12, 31) }, "received_on"},
		{"received in year 1", func(r *OpenRequest) { r.ReceivedOn = resettlement.D(1, 1, 1) }, "received_on"},
		{"received before birth", func(r *OpenRequest) { r.ReceivedOn = resettlement.D(1990, 5, 16) }, "received_on"},
		{"right-to-left override", func(r *OpenRequest) { r.Person.GivenName = "Sam\u202Eelpmaxe" }, "person.given_name"},
		{"left-to-right isolate", func(r *OpenRequest) { r.Person.FamilyName = "Ex\u2066ample" }, "person.family_name"},
		{"pop directional isolate", func(r *OpenRequest) { r.Person.FamilyName = "Ex\u2069ample" }, "person.family_name"},
		{"C0 control", func(r *OpenRequest) { r.Person.GivenName = "Sam\x07" }, "person.given_name"},
		{"newline", func(r *OpenRequest) { r.Person.GivenName = "Sam\nExample" }, "person.given_name"},
		{"C1 control", func(r *OpenRequest) { r.Person.FamilyName = "Ex\u0085ample" }, "person.family_name"},
		{"control in the local authority", func(r *OpenRequest) { r.Person.LocalAuthority = "Islington\u202A" }, "person.local_authority"},
		{"control in the booking", func(r *OpenRequest) { r.Person.Booking = "1\x1b" }, "person.booking"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := openReq("A1111AA")
			c.edit(&r)
			wantFieldError(t, r.Check(testNow), Invalid, c.field)
		})
	}
	ok := openReq("A1111AA")
	ok.Person.GivenName, ok.Person.FamilyName = "Zoë", "O'Brien-Ngọc"
	if err := ok.Check(testNow); err != nil {
		t.Fatalf("a good request: %v", err)
	}
}

// Cursors that are garbage or too big are the caller's fault (422 naming
// the cursor), never a 500 from the database.
func TestCursorsRefusedNotFailed(t *testing.T) {
	f := newFixture(t)
	f.readModelCase("cursorcase1", openReq("A1111AA"))
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, cur := range []string{"!!!", "x", enc(`{"r":"0000-01-01","i":"abc"}`), enc(`{"r":"0001-01-01","i":"abc"}`),
		enc(`{"r":"2026-01-01","i":""}`), enc(`[]`), enc(`{"r":"2026-01-01","i":"abc","x":1}`), enc(strings.Repeat("9", 400))} {
		_, err := f.s.ListCases(f.ctx, f.as("officer-1"), CaseSearch{Cursor: cur})
		wantFieldError(t, err, Invalid, "cursor")
	}
	good := boardCursor(postgres.BoardKey{Order: resettlement.BoardOrder{Severity: resettlement.SeverityHigh, ReleaseDay: resettlement.D(2027, 3, 10),
		DueDate: resettlement.D(2027, 1, 13), Blocking: true}, CaseID: "cursorcase1", StepID: "housing-referral"})
	for _, cur := range []string{"o0", "o99999999999999999999", "1", good + "A", enc("b1|5|0|2027-03-10|2027-01-13|1|cursorcase1|x"),
		enc("b1|3|3|2027-03-10|2027-01-13|1|cursorcase1|x"), enc("b1|3|0|2027-3-10|2027-01-13|1|cursorcase1|x"),
		enc("b1|3|0|2027-03-10|2027-01-13|2|cursorcase1|x"), enc("b1|3|0|2027-03-10|2027-01-13|1|Case 1|x"), enc("b0|3|0|2027-03-10|2027-01-13|1|c|x"),
		enc("b1|03|0|2027-03-10|2027-01-13|1|c|x"), enc(strings.Repeat("9", 400))} {
		_, err := ParseBoardQuery(url.Values{"cursor": {cur}}, true)
		wantFieldError(t, err, Invalid, "cursor")
	}
	bq, err := ParseBoardQuery(url.Values{"cursor": {good}}, true)
	if err != nil {
		t.Fatalf("board cursor %q: %v", good, err)
	}
	if _, err := f.s.Board(f.ctx, f.as("manager-1"), bq); err != nil {
		t.Errorf("board cursor %q: %v", good, err)
	}
}

// The case page offers as owners exactly those the service accepts: the
// directory's query and the scope rule agree, member of staff by member.
func TestOwnersOfferedAreOwnersAccepted(t *testing.T) {
	f := newFixture(t)
	all, err := f.s.DB.AllStaff(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, home := range []struct{ est, team string }{{"PVI", "pvi-resettlement"}, {"PVI", "pvi-housing"}, {"BXI", "bxi-resettlement"}} {
		offered, err := f.s.DB.StaffWhoSee(f.ctx, home.est, home.team)
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]bool{}
		for _, st := range offered {
			in[st.ID] = true
		}
		for _, st := range all {
			msg, err := f.s.checkStaffOwner(f.ctx, st.ID, home.est, home.team)
			if err != nil {
				t.Fatal(err)
			}
			if (msg == "") != in[st.ID] {
				t.Errorf("%s/%s: %s offered %t, accepted %t (%s)", home.est, home.team, st.ID, in[st.ID], msg == "", msg)
			}
		}
	}
}
