package casework

import (
	"context"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// The tests in this package run the application service against a real
// PostgreSQL and no workflow engine: the fixture's service has no Temporal
// client, so a test that reaches the engine panics. Whatever goes through a
// case's workflow (opening a case, acting on one) is tested against the
// real dev stack in ./integration.

func TestMain(m *testing.M) { pgtest.Main(m) }

var testNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// fixture is a service over a fresh database with two prisons' teams: PVI
// (pvi-resettlement: officer-1, manager-1; pvi-housing: officer-3,
// manager-3) and BXI (officer-2, manager-2), head-1 over both resettlement
// teams, admin-1, and gone-1, a PVI officer who has left.
type fixture struct {
	t   *testing.T
	s   *Service
	ctx context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *postgres.DB) error {
		for _, tm := range []postgres.Team{
			{ID: "pvi-resettlement", Name: "Pentonville resettlement", Establishment: "PVI", Email: "resettlement@pvi.example.org", Manager: "manager-1", Head: "head-1", Active: true},
			{ID: "pvi-housing", Name: "Pentonville housing", Establishment: "PVI", Email: "housing@pvi.example.org", Manager: "manager-3", Active: true},
			{ID: "bxi-resettlement", Name: "Brixton resettlement", Establishment: "BXI", Email: "resettlement@bxi.example.org", Manager: "manager-2", Head: "head-1", Active: true},
		} {
			if err := tx.PutTeam(ctx, tm); err != nil {
				return err
			}
		}
		for _, st := range []postgres.Staff{
			{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "officer", Team: "pvi-resettlement", Active: true},
			{ID: "officer-3", Name: "Ola Officer", Email: "ola@pvi.example.org", Role: "officer", Team: "pvi-housing", Active: true},
			{ID: "gone-1", Name: "Gus Gone", Email: "gus@pvi.example.org", Role: "officer", Team: "pvi-resettlement", Active: false},
			{ID: "officer-2", Name: "Bea Officer", Email: "bea@bxi.example.org", Role: "officer", Team: "bxi-resettlement", Active: true},
			{ID: "manager-1", Name: "Mo Manager", Email: "mo@pvi.example.org", Role: "manager", Team: "pvi-resettlement", Active: true},
			{ID: "manager-3", Name: "Max Manager", Email: "max@pvi.example.org", Role: "manager", Team: "pvi-housing", Active: true},
			{ID: "manager-2", Name: "Nell Manager", Email: "nell@bxi.example.org", Role: "manager", Team: "bxi-resettlement", Active: true},
			{ID: "head-1", Name: "Hana Head", Email: "hana@london.example.org", Role: "head", Active: true},
			{ID: "admin-1", Name: "Ade Admin", Email: "ade@london.example.org", Role: "admin", Active: true},
		} {
			if err := tx.PutStaff(ctx, st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, s: &Service{DB: db, Policy: resettlement.DefaultPolicy(), Now: func() time.Time { return testNow }}, ctx: ctx}
}

// as is the principal of a member of staff, as auth.Authenticator makes it.
func (f *fixture) as(id string) *auth.Principal {
	f.t.Helper()
	st, err := f.s.DB.StaffMember(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	reach, err := f.s.DB.StaffReach(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Principal{Staff: st, Reach: reach, Via: "token", Remote: "192.0.2.1"}
}

// openReq is a request to open a case at PVI for a prison number.
func openReq(prisonNumber string) OpenRequest {
	return OpenRequest{
		Person: postgres.Person{PrisonNumber: prisonNumber, Booking: "1", GivenName: "Sam", FamilyName: "Example",
			DateOfBirth: resettlement.D(1990, 5, 17)},
		Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 2, 1),
		Dates: resettlement.ReleaseDates{CRD: resettlement.D(2026, 6, 1)},
	}
}

// readModelCase writes the case openReq asks for straight into the read
// model, as its workflow's first save would, with no workflow behind it:
// for the lists and the board, which read only PostgreSQL.
func (f *fixture) readModelCase(id string, req OpenRequest) {
	f.t.Helper()
	c, err := resettlement.Open(req.openCase(id, nil), testNow)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.DB.LoadSynthetic(f.ctx, []postgres.SyntheticCase{{Person: req.Person, Case: c, Stage: c.Stage(testNow), Stalled: c.Stalled(testNow)}}); err != nil {
		f.t.Fatal(err)
	}
}

// wantFieldError checks err is a casework Error of a kind naming field.
func wantFieldError(t *testing.T, err error, kind Kind, field string) *Error {
	t.Helper()
	e, ok := ErrorOf(err)
	if !ok {
		t.Fatalf("want a %d naming %s, got %v", statuses[kind], field, err)
	}
	if e.Kind != kind {
		t.Fatalf("want a %d naming %s, got %d: %v %+v", statuses[kind], field, statuses[e.Kind], e, e.Fields)
	}
	for _, fe := range e.Fields {
		if fe.Field == field {
			return e
		}
	}
	t.Fatalf("want a %d naming %s, got fields %+v", statuses[kind], field, e.Fields)
	return nil
}
