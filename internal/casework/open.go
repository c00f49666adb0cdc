package casework

import (
	"context"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// OpenCase opens a case for p: the request checked, the team active at the
// establishment and within p's reach, the owner one who can see the case
// (checkOwner). key, when given, makes a retry of the same request return
// the first attempt's case (created false) while p may still see it; the
// key sent with a different request is refused naming Idempotency-Key.
// A person who already has an open case for the booking is refused with
// Conflict, naming that case only when p may see it; otherwise the refusal
// is audited as a probe.
func (s *Service) OpenCase(ctx context.Context, p *auth.Principal, req OpenRequest, key string) (view CaseView, created bool, err error) {
	if _, err := caseScope(p); err != nil {
		return view, false, err
	}
	if key != "" {
		if err := CheckKey(key); err != nil {
			return view, false, err
		}
	}
	if err := req.Check(s.now()); err != nil {
		return view, false, err
	}
	var k postgres.IdempotencyKey
	var hash []byte
	if key != "" {
		k = postgres.IdempotencyKey{Staff: p.ID(), Route: "open", Key: key}
		if hash, err = requestHash("open", req); err != nil {
			return view, false, err
		}
		first, err := s.claimKey(ctx, k, hash)
		if err != nil {
			return view, false, err
		}
		if first != "" {
			// A retry: the first attempt's case, if p may still see it.
			if err := s.access(ctx, p, first, "open"); err != nil {
				return view, false, err
			}
			if err := s.Audit(ctx, p, "case.open", first, "created=false"); err != nil {
				return view, false, err
			}
			view, err = s.view(ctx, first)
			return view, false, err
		}
	}
	id, created, planned, err := s.openChecked(ctx, p, req, key)
	if key != "" {
		if changedNothing(err) {
			_ = s.DB.ReleaseKey(context.WithoutCancel(ctx), k, hash)
		} else if err == nil {
			err = s.DB.SetKeyResult(ctx, k, id)
		}
	}
	if err != nil {
		return view, false, err
	}
	if err := s.Audit(ctx, p, "case.open", id, fmt.Sprintf("created=%t", created)); err != nil {
		return view, false, err
	}
	if !created {
		view, err = s.view(ctx, id) // an earlier attempt's case: ask its workflow
		return view, created, err
	}
	// The plan the workflow will hold, without waiting for a worker.
	view, err = s.viewOf(ctx, id, workflows.StateOf(planned, s.now()))
	return view, created, err
}

// openChecked checks what OpenCase's request names against the directory,
// then opens the case.
func (s *Service) openChecked(ctx context.Context, p *auth.Principal, req OpenRequest, key string) (string, bool, *resettlement.Case, error) {
	if err := s.checkOpenTarget(ctx, p, req); err != nil {
		return "", false, nil, err
	}
	req.OpenedBy = p.ID()
	if key != "" {
		// The route keeps these apart from request ids of other changes.
		req.RequestID = p.ID() + ":open:" + key
	}
	id, created, planned, err := s.open(ctx, req)
	var exists *postgres.OpenCaseExistsError
	if errors.As(err, &exists) {
		e := Errorf(Conflict, "This person already has an open case for this booking.")
		in, serr := s.InScope(ctx, p, exists.CaseID)
		if serr != nil {
			return "", false, nil, serr
		}
		if in {
			e.CaseID = exists.CaseID
			e.Detail += " Open case " + exists.CaseID + " instead."
			return "", false, nil, e
		}
		// The one-open-case rule cannot be kept from p, but which case and
		// where can: the attempt is recorded as a probe of a case p may not see.
		if aerr := s.Audit(ctx, p, "case.probe", exists.CaseID, "open refused: the person has an open case outside the caller's scope"); aerr != nil {
			return "", false, nil, aerr
		}
		e.Detail += " It is not one you can see: ask your manager or the service desk."
		return "", false, nil, e
	}
	return id, created, planned, err
}

// checkOpenTarget checks what an opening names against the directory: the
// team active at the establishment and within p's reach, the owner one
// who can see the case. The import's batches check their rows with it.
func (s *Service) checkOpenTarget(ctx context.Context, p *auth.Principal, req OpenRequest) error {
	team, err := s.DB.Team(ctx, req.Team)
	switch {
	case errors.Is(err, postgres.ErrNotFound) || err == nil && !team.Active:
		return FieldsError(resettlement.Errors{{Field: "team", Message: "is not an active team"}})
	case err != nil:
		return err
	case team.Establishment != req.Establishment:
		return FieldsError(resettlement.Errors{{Field: "team", Message: "works at " + team.Establishment + ", not " + req.Establishment}})
	}
	if !p.CanWorkTeam(team.ID, team.Establishment) {
		return Errorf(Forbidden, "You can open cases only for your own establishment's or teams' people.")
	}
	if req.Owner != "" {
		if msg, err := s.checkStaffOwner(ctx, req.Owner, req.Establishment, req.Team); err != nil {
			return err
		} else if msg != "" {
			return FieldsError(resettlement.Errors{{Field: "owner", Message: msg}})
		}
	}
	return nil
}

// checkInputs refuses what the directory and the domain would take but
// people must not be shown: text with control characters or characters
// that reorder what is shown after them (a name that reads as another
// name), and reception dates no person could have.
func (r OpenRequest) checkInputs() error {
	var errs resettlement.Errors
	p := r.Person
	for _, f := range []struct{ field, v string }{{"person.given_name", p.GivenName}, {"person.family_name", p.FamilyName},
		{"person.local_authority", p.LocalAuthority}, {"person.booking", p.Booking}} {
		if !PlainText(f.v) {
			errs.Add(f.field, "must be plain text: no control characters or text-direction overrides")
		}
	}
	if d := r.ReceivedOn; !d.IsZero() {
		switch {
		case d.Before(resettlement.D(1900, 1, 1)):
			errs.Add("received_on", "must be 1900-01-01 or later")
		case !p.DateOfBirth.IsZero() && d.Before(p.DateOfBirth):
			errs.Add("received_on", "must not be before the person's date of birth")
		}
	}
	return errs.Err()
}

// PlainText reports whether s is valid UTF-8 with no control characters
// (C0, DEL, C1) and none of the bidirectional embedding, override and
// isolate characters (U+202A–U+202E, U+2066–U+2069) that make text display
// in another order than it is stored.
func PlainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) || c >= 0x202A && c <= 0x202E || c >= 0x2066 && c <= 0x2069 {
			return false
		}
	}
	return true
}
