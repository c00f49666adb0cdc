package casework

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// A person's own settings: how they are emailed (one email per reminder or
// a daily digest, and which kinds to turn off: never escalations), the day
// they are back from being away (reminders meanwhile go to the team's
// queue), their password and their personal access tokens.

// Settings are the choices a person makes about their own email.
type Settings struct {
	Notify    string            // "each" or "digest"
	Muted     []string          // kinds of email turned off (postgres.MutableKinds)
	AwayUntil resettlement.Date // zero: not away
}

// MySettings reads the signed-in person's settings and details.
func (s *Service) MySettings(ctx context.Context, p *auth.Principal) (postgres.Staff, error) {
	return s.DB.StaffMember(ctx, p.ID())
}

// UpdateSettings records a person's own email settings, audited.
func (s *Service) UpdateSettings(ctx context.Context, p *auth.Principal, set Settings) error {
	var errs resettlement.Errors
	checkNotify(set.Notify, &errs)
	for _, k := range set.Muted {
		if !slices.Contains(postgres.MutableKinds, k) {
			errs.Add("muted", "can only turn off "+strings.Join(postgres.MutableKinds, ", ")+": escalations are always sent")
			break
		}
	}
	s.checkAwayUntil(set.AwayUntil, &errs)
	if len(errs) > 0 {
		return FieldsError(errs)
	}
	m, err := s.DB.StaffMember(ctx, p.ID())
	if err != nil {
		return err
	}
	m.Notify, m.AwayUntil = set.Notify, awayTime(set.AwayUntil)
	err = s.DB.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.UpdateStaff(ctx, m); err != nil {
			return err
		}
		return tx.SetMuted(ctx, m.ID, set.Muted)
	})
	if err != nil {
		return err
	}
	return s.Audit(ctx, p, "staff.settings", "", "notify="+set.Notify+" muted="+strings.Join(set.Muted, ","))
}

// checkNotify checks how a person is emailed.
func checkNotify(notify string, errs *resettlement.Errors) {
	if notify != "each" && notify != "digest" {
		errs.Add("notify", "must be each (an email per reminder) or digest (one a day)")
	}
}

// checkAwayUntil checks the day a person is back (zero: not away).
func (s *Service) checkAwayUntil(d resettlement.Date, errs *resettlement.Errors) {
	if !d.IsZero() && !d.After(resettlement.DateOf(s.now())) {
		errs.Add("away_until", "must be a day after today")
	}
}

// awayTime is the day a person is back as the staff table holds it
// (midnight UTC); nil when they are not away.
func awayTime(d resettlement.Date) *time.Time {
	if d.IsZero() {
		return nil
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return &t
}

// ChangeMyPassword changes the signed-in person's own password, given the
// current one (checked under the per-account throttle): their other
// sessions end and every token of theirs is revoked.
func (s *Service) ChangeMyPassword(ctx context.Context, p *auth.Principal, current, password string) (Revoked, error) {
	if err := RequireSession(p); err != nil {
		return Revoked{}, err
	}
	var errs resettlement.Errors
	if current == "" {
		errs.Add("current", "is required")
	}
	if msg := auth.CheckPassword(password); msg != "" { // before the current one is tried: no guess spent on a bad form
		errs.Add("password", msg)
	}
	if len(errs) > 0 {
		return Revoked{}, FieldsError(errs)
	}
	if err := s.CheckCurrentPassword(ctx, p, current); err != nil {
		return Revoked{}, err
	}
	return s.ChangePassword(ctx, p, p.Staff, password)
}

// NewToken is a personal access token, its secret shown this once.
type NewToken struct {
	postgres.Token
	Secret string
}

// CreateToken makes a personal access token for the signed-in person
// (only from a session: a token cannot make tokens), audited.
func (s *Service) CreateToken(ctx context.Context, p *auth.Principal, name string, days int) (NewToken, error) {
	if err := RequireSession(p); err != nil {
		return NewToken{}, err
	}
	var errs resettlement.Errors
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "<>\x00") {
		errs.Add("name", "is required: what the token is for (up to 100 characters)")
	}
	if days == 0 {
		days = 90
	}
	if days < 1 || days > 366 {
		errs.Add("expires_in_days", "must be from 1 to 366")
	}
	if len(errs) > 0 {
		return NewToken{}, FieldsError(errs)
	}
	plain, hash := auth.NewSecret(auth.TokenPrefix)
	exp := s.now().Add(time.Duration(days) * 24 * time.Hour)
	t, err := s.DB.CreateToken(ctx, p.ID(), name, hash, &exp)
	if err != nil {
		return NewToken{}, err
	}
	return NewToken{Token: t, Secret: plain}, s.Audit(ctx, p, "token.create", "", "token="+strconv.FormatInt(t.ID, 10))
}

// Tokens lists the signed-in person's tokens (never their secrets).
func (s *Service) Tokens(ctx context.Context, p *auth.Principal) ([]postgres.Token, error) {
	return s.DB.Tokens(ctx, p.ID())
}

// RevokeToken revokes one of the signed-in person's tokens, audited. A
// token may do it as well as a session: revoking only ever narrows
// access, so a script can give up its own token (or a leaked one of its
// owner's) without anyone signing in.
func (s *Service) RevokeToken(ctx context.Context, p *auth.Principal, id int64) error {
	err := s.DB.RevokeToken(ctx, p.ID(), id)
	if errors.Is(err, postgres.ErrNotFound) {
		return Errorf(NotFound, "You have no such token.")
	}
	if err != nil {
		return err
	}
	return s.Audit(ctx, p, "token.revoke", "", "token="+strconv.FormatInt(id, 10))
}
