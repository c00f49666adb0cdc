package casework

import (
	"context"
	"errors"
	"fmt"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// OpenCase opens a case for p: the request checked, the team active at the
// establishment and within p's reach, the owner active staff. key, when
// given, makes a retry return the first attempt's case (created false).
// A person who already has an open case for the booking is refused with
// Conflict, naming that case only when p may see it.
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
	team, err := s.DB.Team(ctx, req.Team)
	switch {
	case errors.Is(err, postgres.ErrNotFound) || err == nil && !team.Active:
		return view, false, FieldsError(resettlement.Errors{{Field: "team", Message: "is not an active team"}})
	case err != nil:
		return view, false, err
	case team.Establishment != req.Establishment:
		return view, false, FieldsError(resettlement.Errors{{Field: "team", Message: "works at " + team.Establishment + ", not " + req.Establishment}})
	}
	if !p.CanWorkTeam(team.ID, team.Establishment) {
		return view, false, Errorf(Forbidden, "You can open cases only for your own establishment's or teams' people.")
	}
	if req.Owner != "" {
		if ok, err := s.DB.ActiveStaffExists(ctx, req.Owner); err != nil {
			return view, false, err
		} else if !ok {
			return view, false, FieldsError(resettlement.Errors{{Field: "owner", Message: "is not an active member of staff"}})
		}
	}
	req.OpenedBy = p.ID()
	if key != "" {
		req.RequestID = p.ID() + ":" + key
	}
	id, created, err := s.Open(ctx, req)
	var exists *postgres.OpenCaseExistsError
	if errors.As(err, &exists) {
		e := Errorf(Conflict, "This person already has an open case for this booking.")
		if in, serr := s.InScope(ctx, p, exists.CaseID); serr == nil && in {
			e.CaseID = exists.CaseID
			e.Detail += " Open case " + exists.CaseID + " instead."
		}
		return view, false, e
	}
	if err != nil {
		return view, false, err
	}
	if err := s.Audit(ctx, p, "case.open", id, fmt.Sprintf("created=%t", created)); err != nil {
		return view, false, err
	}
	view, err = s.view(ctx, id)
	return view, created, err
}
