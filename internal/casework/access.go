package casework

import (
	"context"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Every use of a case starts here: who may see it, and the audit line that
// records what they did. A case outside a person's scope is "not found" to
// them (they may not know it exists), and the refusal is audited.

// caseScope is the caseload p may see; Forbidden for a role that sees no
// cases (administrators).
func caseScope(p *auth.Principal) (postgres.Scope, error) {
	s, ok := p.CaseScope()
	if !ok {
		return s, errAdminCase
	}
	return s, nil
}

// SeesCases refuses a role that sees no cases (administrators).
func SeesCases(p *auth.Principal) error {
	_, err := caseScope(p)
	return err
}

// boardScope is the caseload behind the board: managers' and heads' teams.
func boardScope(p *auth.Principal) (postgres.Scope, error) {
	if !p.CanSeeBoard() {
		return postgres.Scope{}, errNotBoard
	}
	s, _ := p.CaseScope()
	return s, nil
}

// SeesBoard refuses anyone but managers and heads of service.
func SeesBoard(p *auth.Principal) error {
	_, err := boardScope(p)
	return err
}

// access checks p may see the case. route names what was asked for, in
// the audit line of a refusal.
func (s *Service) access(ctx context.Context, p *auth.Principal, caseID, route string) error {
	scope, err := caseScope(p)
	if err != nil {
		return err
	}
	found, in, err := s.DB.InScope(ctx, scope, caseID)
	if err != nil {
		return err
	}
	if !in {
		if found {
			if err := s.Audit(ctx, p, "case.denied", caseID, route); err != nil {
				return err
			}
		}
		return errNoCase
	}
	return nil
}

// Access checks p may see the case: NotFound when it does not exist or is
// outside their scope, the refusal audited.
func (s *Service) Access(ctx context.Context, p *auth.Principal, caseID string) error {
	return s.access(ctx, p, caseID, "access")
}

// InScope reports whether p may still see the case (after a transfer out
// of their prison, an officer may not).
func (s *Service) InScope(ctx context.Context, p *auth.Principal, caseID string) (bool, error) {
	scope, err := caseScope(p)
	if err != nil {
		return false, nil
	}
	_, in, err := s.DB.InScope(ctx, scope, caseID)
	return in, err
}

// Refused audits a refusal by role: err of kind Forbidden, whichever check
// made it (caseScope, boardScope, RequireSession, an administrators-only
// route, a change from another site). Both surfaces call it with every
// failure they answer, so each 403 is in the audit log once, as
// "access.denied" naming the request (method and route) and the reason.
// remote is the client's address, for a refusal before anyone is known
// (p nil); caseID the case the route names, if any.
func (s *Service) Refused(ctx context.Context, p *auth.Principal, remote, request, caseID string, err error) error {
	e, ok := ErrorOf(err)
	if !ok || e.Kind != Forbidden {
		return nil
	}
	actor := "anonymous"
	if p != nil {
		actor, remote = p.ID(), p.Remote
	}
	if !resettlement.ValidID(caseID) {
		caseID = "" // whatever was in the path, it names no case
	}
	return s.AuditAs(ctx, actor, remote, "access.denied", caseID, request+": "+e.Detail)
}

// Audit appends to the audit log: who, what, which case, from where. It
// outlives the request's cancellation: what was done is recorded.
func (s *Service) Audit(ctx context.Context, p *auth.Principal, action, caseID, detail string) error {
	actor, remote := "anonymous", ""
	if p != nil {
		actor, remote = auditActor(p), p.Remote // events: "events:<source>"
	}
	return s.AuditAs(ctx, actor, remote, action, caseID, detail)
}

// AuditAs appends to the audit log for someone not signed in (a failed
// sign-in names the account tried, or "unknown").
func (s *Service) AuditAs(ctx context.Context, actor, remote, action, caseID, detail string) error {
	return s.DB.Audit(context.WithoutCancel(ctx), postgres.AuditEntry{Actor: actor, Action: action, CaseID: caseID, Detail: detail, Remote: remote})
}
