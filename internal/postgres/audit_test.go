package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

func audit(t *testing.T, db *postgres.DB, n int) {
	t.Helper()
	for i := range n {
		if err := db.Audit(context.Background(), postgres.AuditEntry{Actor: "officer-1", Action: "case.view",
			CaseID: fmt.Sprintf("case%05d", i), Detail: fmt.Sprintf("line %d", i), Remote: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, db *postgres.DB) postgres.AuditVerification {
	t.Helper()
	v, err := db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantDenied checks err is PostgreSQL's own refusal for lack of privilege.
func wantDenied(t *testing.T, what string, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, "permission denied") && !strings.Contains(pgErr.Message, "must be owner") {
		t.Errorf("%s as the application: %v, want PostgreSQL's insufficient_privilege (42501)", what, err)
	}
}

// The application's role may add to the audit log and read it, and
// nothing else: PostgreSQL refuses an update, a delete or a truncate, and
// any change to the chain's head, with a permission error.
func TestApplicationCannotChangeTheAuditLog(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	audit(t, db, 3)
	app := pgtest.AsApp(t, db)
	var role string
	if err := app.QueryRow(ctx, `select current_user`).Scan(&role); err != nil || role != postgres.AppRole {
		t.Fatalf("connected as %q (%v), want %s", role, err, postgres.AppRole)
	}
	for _, c := range []struct{ what, sql string }{
		{"update", `update audit set detail = 'nothing happened' where id = 2`},
		{"delete", `delete from audit where id = 2`},
		{"truncate", `truncate audit`},
		{"update the chain's head", `update audit_chain set last_id = 0`},
		{"renumber the log", `select setval('audit_id_seq', 1)`},
		{"disable the chain", `alter table audit disable trigger audit_chain_append`},
	} {
		_, err := app.Exec(ctx, c.sql)
		wantDenied(t, c.what, err)
	}
	// An insert cannot choose its id, time or hashes: the trigger sets them.
	if _, err := app.Exec(ctx, `insert into audit (id, at, actor, action, prev_hash, hash) values (1, '2000-01-01', 'x', 'forged', '\x00', '\x00')`); err != nil {
		t.Fatalf("insert as the application: %v", err)
	}
	if v := verify(t, db); !v.OK() || v.Rows != 4 {
		t.Fatalf("after an insert with chosen id and hashes: %+v, want a whole chain of 4", v)
	}
	if got := pgtest.Int(t, db, `select count(*) from audit where action = 'forged' and id = 4 and at > now() - interval '1 hour'`); got != 1 {
		t.Error("the forged insert kept its own id or time")
	}
	if ok, err := db.AuditProtected(ctx); err != nil || !ok {
		t.Errorf("AuditProtected as the application = %t, %v; want true", ok, err)
	}
	if n := pgtest.Int(t, db, `select count(*) from audit`); n != 4 {
		t.Errorf("%d rows, want 4: something was removed", n)
	}
}

// A row changed by the owner (who must first disable the append-only
// trigger) breaks the chain at exactly that row; a removed row breaks it
// at the row after; removing the newest row shows at the chain's head.
func TestVerifyFindsTheRowChanged(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	audit(t, db, 6)
	if v := verify(t, db); !v.OK() || v.Rows != 6 || v.LastID != 6 || len(v.LastHash) != 32 {
		t.Fatalf("untouched: %+v, want ok 6 rows", v)
	}
	owner := pgtest.AsOwner(t, db)
	if _, err := owner.Exec(ctx, `update audit set detail = 'x' where id = 3`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("the owner's update with the trigger on: %v, want the append-only refusal", err)
	}
	tamper := func(sql string) {
		t.Helper()
		if err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `alter table audit disable trigger audit_append_only`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `alter table audit enable trigger audit_append_only`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	tamper(`update audit set detail = 'line 2, nothing to see' where id = 3`)
	v := verify(t, db)
	if v.OK() || v.Broken == nil || v.Broken.ID != 3 || v.Rows != 3 || !strings.Contains(v.Reason, "changed") {
		t.Fatalf("row 3 changed: %+v, want broken at row 3", v)
	}
	tamper(`update audit set detail = 'line 2' where id = 3`) // put back
	if v := verify(t, db); !v.OK() {
		t.Fatalf("row 3 restored: %+v", v)
	}
	// Changed with its hash recomputed: the next row no longer follows it.
	tamper(`update audit set remote = '198.51.100.7', hash = audit_row_hash(prev_hash, id, at, actor, action, case_id, detail, '198.51.100.7') where id = 3`)
	if v := verify(t, db); v.Broken == nil || v.Broken.ID != 4 || !strings.Contains(v.Reason, "prev_hash") {
		t.Fatalf("row 3 changed and rehashed: %+v, want broken at row 4", v)
	}

	db2 := pgtest.New(t)
	audit(t, db2, 5)
	owner2 := pgtest.AsOwner(t, db2)
	owner = owner2
	tamper(`delete from audit where id = 2`)
	if v := verify(t, db2); v.Broken == nil || v.Broken.ID != 3 {
		t.Fatalf("row 2 removed: %+v, want broken at row 3", v)
	}

	db3 := pgtest.New(t)
	audit(t, db3, 5)
	owner = pgtest.AsOwner(t, db3)
	tamper(`delete from audit where id = 5`)
	if v := verify(t, db3); v.OK() || v.Broken == nil || v.Broken.ID != 4 || !strings.Contains(v.Reason, "head") {
		t.Fatalf("newest row removed: %+v, want the head not to match", v)
	}
}

// Inserts from many connections at once, some inside longer transactions
// and some rolled back, still make one chain in id order.
func TestConcurrentAuditKeepsOneChain(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := postgres.AuditEntry{Actor: fmt.Sprintf("worker-%d", w), Action: "case.view", Detail: fmt.Sprint(i)}
				var err error
				switch i % 5 {
				case 0: // in a transaction with a second row
					err = db.InTx(ctx, func(tx *postgres.DB) error {
						if err := tx.Audit(ctx, e); err != nil {
							return err
						}
						return tx.Audit(ctx, e)
					})
				case 1: // rolled back: leaves a gap in the ids, not in the chain
					err = db.InTx(ctx, func(tx *postgres.DB) error {
						if err := tx.Audit(ctx, e); err != nil {
							return err
						}
						return errRollback
					})
					if errors.Is(err, errRollback) {
						err = nil
					}
				default:
					err = db.Audit(ctx, e)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := workers * each // 1 of 5 writes two, 1 of 5 none
	v := verify(t, db)
	if !v.OK() || v.Rows != want {
		t.Fatalf("%+v, want a whole chain of %d rows", v, want)
	}
	if n := pgtest.Int(t, db, `select count(*) from (select at < lag(at) over (order by id) as back from audit) x where back`); n != 0 {
		t.Errorf("%d rows are timed before the row before them", n)
	}
}

var errRollback = errors.New("roll back")

// Nothing typed into an audit line can make a second line, or hide in a
// terminal: controls are escaped, once, where every line is written.
func TestAuditTextCannotForgeLines(t *testing.T) {
	for in, want := range map[string]string{
		"shown=3 cases=a,b":                   "shown=3 cases=a,b",
		"O'Brien-Ngọc \"quoted\"":             "O'Brien-Ngọc \"quoted\"",
		"ok\n2026-01-01 admin-1 audit.export": `ok\n2026-01-01 admin-1 audit.export`,
		"a\r\nb\tc":                           `a\r\nb\tc`,
		"esc\x1b[2Jclear":                     `esc\x1b[2Jclear`,
		"line\u2028sep\u2029para":             `line\u2028sep\u2029para`,
		"rtl\u202Eevil":                       `rtl\u202eevil`,
		`back\slash\n`:                        `back\\slash\\n`,
		"bad\xffutf8":                         `bad\xffutf8`,
		"nul\x00":                             `nul\x00`,
		"c1\u0085":                            `c1\u0085`,
	} {
		if got := postgres.AuditText(in); got != want {
			t.Errorf("AuditText(%q) = %q, want %q", in, got, want)
		}
	}
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.Audit(ctx, postgres.AuditEntry{Actor: "unknown\nadmin-1", Action: "signin.failed", Detail: "login=x\r\n2026 admin-1 staff.role", Remote: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	log, err := db.AuditLog(ctx, postgres.AuditFilter{})
	if err != nil || len(log) != 1 {
		t.Fatal(log, err)
	}
	if e := log[0]; e.Actor != `unknown\nadmin-1` || e.Detail != `login=x\r\n2026 admin-1 staff.role` {
		t.Errorf("stored %q / %q, want escaped", e.Actor, e.Detail)
	}
	if v := verify(t, db); !v.OK() {
		t.Errorf("%+v", v)
	}
}

// Rows written before the chain existed (migration 011) are chained by
// it, in id order, and the rows after follow on.
func TestMigrationChainsEarlierRows(t *testing.T) {
	conn, ownerURL, appURL := migratedTo(t, 10)
	ctx := context.Background()
	for i := range 4 {
		if _, err := conn.Exec(ctx, `insert into audit (at, actor, action, case_id, detail) values (now() - make_interval(days => $1), 'officer-1', 'case.view', nullif($2, ''), 'before')`,
			10-i, map[bool]string{true: "abc"}[i%2 == 0]); err != nil {
			t.Fatal(err)
		}
	}
	db := migrateRest(t, ownerURL, appURL)
	audit(t, db, 2)
	v := verify(t, db)
	if !v.OK() || v.Rows != 6 || v.LastID != 6 {
		t.Fatalf("%+v, want a whole chain of 6", v)
	}
}
