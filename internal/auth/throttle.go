package auth

import (
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
)

// Throttle is the limit on failed attempts to prove who one is to one
// account (ASVS 2.2.1): passwords at sign-in, the current password when
// changing it, and TOTP or recovery codes. It counts per account, however
// many addresses the attempts come from; the sign-in rate limit of
// package httpserver counts per address, however many accounts.
//
// After Free failures each attempt must wait Wait(failures) after the last
// failure, doubling from Base up to MaxWait; the LockAfter-th failure locks
// the account for LockFor, and the person is emailed. After a lock, each
// further failure locks it again; a success, or Forget without a failure,
// starts the count again. With the defaults an attacker gets at most 10
// guesses in the first 17 minutes and then 4 an hour — far under ASVS's
// 100 an hour — while a person who mistypes a few times waits seconds.
type Throttle struct {
	Free      int
	Base      time.Duration
	MaxWait   time.Duration
	LockAfter int
	LockFor   time.Duration
	Forget    time.Duration
}

// DefaultThrottle is the throttle every account has.
var DefaultThrottle = Throttle{Free: 3, Base: time.Second, MaxWait: 5 * time.Minute, LockAfter: 10,
	LockFor: 15 * time.Minute, Forget: 24 * time.Hour}

// Wait is how long after the last failure the next attempt must wait,
// with failures failed attempts counted.
func (t Throttle) Wait(failures int) time.Duration {
	if failures < t.Free {
		return 0
	}
	d := t.Base
	for i := t.Free; i < failures && d < t.MaxWait; i++ {
		d *= 2
	}
	return min(d, t.MaxWait)
}

// Decide says how long an attempt against an account in state s must
// still wait at now (0: it may go ahead), and the failures to count on
// from: none once Forget has passed without a failure and no lock.
func (t Throttle) Decide(s postgres.ThrottleState, now time.Time) (wait time.Duration, failures int) {
	if s.LockedUntil.After(now) {
		return s.LockedUntil.Sub(now), s.Failures
	}
	if s.LastFailure.IsZero() || now.Sub(s.LastFailure) >= t.Forget {
		return 0, 0
	}
	if next := s.LastFailure.Add(t.Wait(s.Failures)); next.After(now) {
		return next.Sub(now), s.Failures
	}
	return 0, s.Failures
}
