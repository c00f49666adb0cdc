package casework

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
)

const goodPassword = "a long enough password"

// withPassword gives a member of staff of the fixture a password, and the
// fixture a clock the test moves.
func (f *fixture) withPassword(id string) *time.Time {
	f.t.Helper()
	hash, err := auth.HashPassword(goodPassword)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.DB.SetPassword(f.ctx, id, hash); err != nil {
		f.t.Fatal(err)
	}
	now := testNow
	f.s.Now = func() time.Time { return now }
	return &now
}

func (f *fixture) audited(actor, action string) int {
	f.t.Helper()
	log, err := f.s.DB.AuditLog(f.ctx, postgres.AuditFilter{Actor: actor, Action: action, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, e := range log {
		if e.Action == action {
			n++
		}
	}
	return n
}

func kindOf(err error) Kind {
	if e, ok := ErrorOf(err); ok {
		return e.Kind
	}
	return 0
}

// Failed sign-ins to one account slow it down, then lock it for a while:
// the wait doubles after the third failure, the tenth locks the account
// for 15 minutes and emails the person once. A refused attempt does not
// check the password (so guessing gets nowhere), and an unknown name is
// treated exactly like a real one.
func TestSignInThrottledPerAccount(t *testing.T) {
	f := newFixture(t)
	now := f.withPassword("officer-1")
	th := auth.DefaultThrottle
	fail := func(login string) error {
		t.Helper()
		_, err := f.s.SignIn(f.ctx, login, "not the password at all", "192.0.2.9")
		return err
	}
	for _, login := range []string{"officer-1", "nobody-here"} {
		for i := 1; i <= th.LockAfter; i++ {
			if err := fail(login); kindOf(err) != Unauthenticated {
				t.Fatalf("%s: failure %d: %v", login, i, err)
			}
			if i < th.Free {
				continue
			}
			// The next attempt at once is refused, even with the right
			// password, and says when to come back.
			_, err := f.s.SignIn(f.ctx, login, goodPassword, "192.0.2.9")
			var te *ThrottledError
			if kindOf(err) != TooMany || !errors.As(err, &te) || te.RetryAfter <= 0 {
				t.Fatalf("%s: straight after failure %d: %v", login, i, err)
			}
			if i < th.LockAfter {
				if want := th.Wait(i); te.RetryAfter != want {
					t.Errorf("%s: after failure %d wait %s, want %s", login, i, te.RetryAfter, want)
				}
				*now = now.Add(te.RetryAfter)
			} else if te.RetryAfter != th.LockFor {
				t.Errorf("%s: locked for %s, want %s", login, te.RetryAfter, th.LockFor)
			}
		}
	}
	if n := f.audited("officer-1", "signin.failed"); n != th.LockAfter {
		t.Errorf("%d failures audited", n)
	}
	if f.audited("officer-1", "signin.locked") != 1 || f.audited("officer-1", "signin.throttled") < th.LockAfter-th.Free {
		t.Error("the lock and the refusals are not audited")
	}
	if f.audited("unknown", "signin.locked") != 1 {
		t.Error("an unknown name's lock is not audited")
	}
	// Locked: more attempts are refused, and email nobody again.
	for range 3 {
		if err := fail("olu@pvi.example.org"); kindOf(err) != TooMany {
			t.Fatalf("locked, by email: %v", err)
		}
	}
	mails, err := f.s.DB.AccountEmails(f.ctx, "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 || mails[0].Recipient != "olu@pvi.example.org" || mails[0].Template != "account" {
		t.Fatalf("emails: %+v", mails)
	}
	var notice struct {
		Event string    `json:"event"`
		Until time.Time `json:"until"`
	}
	if err := json.Unmarshal(mails[0].Data, &notice); err != nil || notice.Event != "locked" || !notice.Until.After(*now) {
		t.Errorf("the email says %s (%v)", mails[0].Data, err)
	}
	// Another account is untouched.
	f.withPassword("officer-2")
	f.s.Now = func() time.Time { return *now }
	if _, err := f.s.SignIn(f.ctx, "officer-2", goodPassword, "192.0.2.9"); err != nil {
		t.Fatalf("another account: %v", err)
	}
	// When the lock has passed, the right password works and the count
	// starts again.
	*now = now.Add(th.LockFor)
	if _, err := f.s.SignIn(f.ctx, "officer-1", goodPassword, "192.0.2.9"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	for i := 1; i < th.Free; i++ {
		if err := fail("officer-1"); kindOf(err) != Unauthenticated {
			t.Fatalf("the count did not start again: %v", err)
		}
	}
}

func TestThrottleWait(t *testing.T) {
	th := auth.DefaultThrottle
	for f, want := range map[int]time.Duration{0: 0, 1: 0, th.Free - 1: 0, th.Free: th.Base, th.Free + 1: 2 * th.Base, th.Free + 3: 8 * th.Base, 60: th.MaxWait} {
		if got := th.Wait(f); got != want {
			t.Errorf("Wait(%d) = %s, want %s", f, got, want)
		}
	}
}
