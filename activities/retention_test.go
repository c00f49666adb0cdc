package activities

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The activity anonymises every case closed more than RETENTION_YEARS ago,
// across batches, and none with retention off.
func TestAnonymiseClosedCasesInBatches(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	const old = retentionBatch*2 + 7
	for i := range old + 1 {
		if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: fmt.Sprintf("case%06d", i), Person: postgres.Person{
			PrisonNumber: fmt.Sprintf("A%04dAA", i), Booking: "1", GivenName: "Sam", FamilyName: "Example",
			DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1", Establishment: "PVI", Team: "pvi-resettlement",
			ReceivedOn: resettlement.D(2020, 2, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2033, 6, 1, 2, 30, 0, 0, time.UTC)
	// All but the last closed eight years before now; the last, six.
	pgtest.Int(t, db, `with u as (update cases set closed_at = case when id = $1 then $2::timestamptz else $3::timestamptz end returning 1) select count(*) from u`,
		fmt.Sprintf("case%06d", old), now.AddDate(-6, 0, 0), now.AddDate(-8, 0, 0))

	// An event for nobody's case, parked nine years before now: the sweep
	// deletes it too (postgres.PurgeCaselessRecords).
	if _, _, err := db.RecordEvent(ctx, postgres.NewEvent{Source: "nomis", EventID: "caseless", Type: "prison-offender-events.prisoner.received",
		PrisonNumber: "Z9999ZZ", OccurredAt: now.AddDate(-9, 0, 0), ReceivedAt: now.AddDate(-9, 0, 0), Body: []byte(`{"firstName":"Alex"}`)}); err != nil {
		t.Fatal(err)
	}

	var suite testsuite.WorkflowTestSuite
	run := func(years int) int {
		t.Helper()
		env := suite.NewTestActivityEnvironment()
		env.RegisterActivity(&Activities{DB: db, RetentionYears: years})
		v, err := env.ExecuteActivity("AnonymiseClosedCases", now)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := v.Get(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := run(0); n != 0 {
		t.Fatalf("retention off anonymised %d", n)
	}
	if n := pgtest.Int(t, db, `select count(*) from events`); n != 1 {
		t.Fatalf("retention off deleted the caseless event")
	}
	if n := run(7); n != old {
		t.Fatalf("anonymised %d, want %d", n, old)
	}
	if n := pgtest.Int(t, db, `select count(*) from cases where given_name = $1`, postgres.Removed); n != old {
		t.Errorf("%d cases anonymised in the database, want %d", n, old)
	}
	if n := pgtest.Int(t, db, `select count(*) from events`); n != 0 {
		t.Errorf("the caseless event from nine years ago is kept")
	}
	if n := run(7); n != 0 {
		t.Errorf("a second sweep anonymised %d", n)
	}
}
