package auth

import (
	"context"
	"slices"

	"github.com/throughgate/throughgate/internal/postgres"
)

// Roles, as the staff table spells them.
const (
	RoleOfficer = "officer"
	RoleManager = "manager"
	RoleHead    = "head"
	RoleAdmin   = "admin"
)

// Principal is the signed-in person behind a request.
type Principal struct {
	Staff postgres.Staff
	Reach postgres.Reach
	// Via is how they proved it: "session" (a browser cookie) or "token".
	Via         string
	SessionHash []byte // set for sessions
	TokenID     int64  // set for tokens
	// Remote is the client address the request came from, for the audit.
	Remote string
	// Pending is what the person must still do to finish signing in with a
	// password: SecondFactorTOTP (give a code) or SecondFactorEnrol (set up
	// an authenticator app, their role requiring one); "" when signed in.
	// Such a principal may do nothing but that, and sign out.
	Pending string
}

// What a password sign-in still needs (Principal.Pending).
const (
	SecondFactorTOTP  = "totp"
	SecondFactorEnrol = "enrol"
)

// ID is the person's staff id.
func (p *Principal) ID() string { return p.Staff.ID }

// IsAdmin reports whether the person administers staff, teams and the audit
// log. Administrators do not see case contents.
func (p *Principal) IsAdmin() bool { return p.Staff.Role == RoleAdmin }

// CaseScope is the caseload the person may see and act on, and false for a
// role that sees no cases at all.
//   - officer: every case at their team's establishment;
//   - manager: the cases of the teams they manage;
//   - head of service: the cases of every team they head.
func (p *Principal) CaseScope() (postgres.Scope, bool) {
	switch p.Staff.Role {
	case RoleOfficer:
		if p.Reach.TeamEstablishment == "" {
			return postgres.Scope{}, true // in no active team: sees nothing
		}
		return postgres.Scope{Establishments: []string{p.Reach.TeamEstablishment}}, true
	case RoleManager:
		return postgres.Scope{Teams: p.Reach.Managed}, true
	case RoleHead:
		return postgres.Scope{Teams: p.Reach.Headed}, true
	}
	return postgres.Scope{}, false
}

// CanSeeBoard reports whether the person may use the stalled and overdue
// board: managers and heads of service, over their teams.
func (p *Principal) CanSeeBoard() bool {
	return p.Staff.Role == RoleManager || p.Staff.Role == RoleHead
}

// CanWorkTeam reports whether a case of the team (working at the
// establishment) is within the person's scope, e.g. to open one there.
func (p *Principal) CanWorkTeam(team, establishment string) bool {
	s, ok := p.CaseScope()
	if !ok {
		return false
	}
	return slices.Contains(s.Establishments, establishment) || slices.Contains(s.Teams, team)
}

type ctxKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the request's principal, or nil if nobody signed in.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
