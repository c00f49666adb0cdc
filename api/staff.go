package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Me is who is signed in and what they can reach.
type Me struct {
	Staff          postgres.Staff `json:"staff"`
	Via            string         `json:"via"`
	Establishments []string       `json:"establishments"`
	Teams          []string       `json:"teams"`
	SeesCases      bool           `json:"sees_cases"`
	SeesBoard      bool           `json:"sees_board"`
	Administers    bool           `json:"administers"`
}

func (a *app) getMe(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	s, sees := p.CaseScope()
	return writeJSON(w, http.StatusOK, Me{Staff: p.Staff, Via: p.Via, Establishments: nonNil(s.Establishments), Teams: nonNil(s.Teams),
		SeesCases: sees, SeesBoard: p.CanSeeBoard(), Administers: p.IsAdmin()})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// StaffPatch changes a member of staff; absent fields stay as they are.
// The person themself may change only notify and away_until.
type StaffPatch struct {
	Name      *string            `json:"name,omitempty"`
	Email     *string            `json:"email,omitempty"`
	Role      *string            `json:"role,omitempty"`
	Team      *string            `json:"team,omitempty"`
	Notify    *string            `json:"notify,omitempty"`
	AwayUntil *resettlement.Date `json:"away_until,omitempty"`
	Active    *bool              `json:"active,omitempty"`
}

// NewStaff is the body of POST /api/v1/staff.
type NewStaff struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Email     string            `json:"email"`
	Role      string            `json:"role"`
	Team      string            `json:"team,omitempty"`
	Notify    string            `json:"notify,omitempty"`
	AwayUntil resettlement.Date `json:"away_until,omitempty"`
	// Password, if given, lets the person sign in locally; without one they
	// sign in through single sign-on.
	Password string `json:"password,omitempty"`
}

// change is the patch as casework takes it.
func (b StaffPatch) change() casework.StaffChange {
	return casework.StaffChange{Name: b.Name, Email: b.Email, Role: b.Role, Team: b.Team, Active: b.Active,
		Notify: b.Notify, AwayUntil: b.AwayUntil}
}

func (a *app) listStaff(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Cases.ListStaff(r.Context(), auth.FromContext(r.Context()), casework.StaffFilter{Limit: -1})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": nonNilStaff(list.Items)})
}

func nonNilStaff(s []postgres.Staff) []postgres.Staff {
	if s == nil {
		return []postgres.Staff{}
	}
	return s
}

// createStaff, createTeam and patchTeam refuse anyone but an
// administrator before they read the body, so a refusal never depends on
// it; casework checks again, as for the pages.
func (a *app) createStaff(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	var b NewStaff
	if p := decode(r, &b); p != nil {
		return p
	}
	m := postgres.Staff{ID: b.ID, Name: b.Name, Email: b.Email, Role: b.Role, Team: b.Team, Notify: b.Notify}
	if !b.AwayUntil.IsZero() {
		t := time.Date(b.AwayUntil.Year, b.AwayUntil.Month, b.AwayUntil.Day, 0, 0, 0, 0, time.UTC)
		m.AwayUntil = &t
	}
	m, err := a.Cases.CreateStaff(r.Context(), auth.FromContext(r.Context()), m, b.Password)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/staff/"+m.ID)
	return writeJSON(w, http.StatusCreated, m)
}

func (a *app) getStaff(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Cases.StaffRecord(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "staffID"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

func (a *app) patchStaff(w http.ResponseWriter, r *http.Request) error {
	return a.applyStaffPatch(w, r, chi.URLParam(r, "staffID"))
}

func (a *app) patchMe(w http.ResponseWriter, r *http.Request) error {
	return a.applyStaffPatch(w, r, auth.FromContext(r.Context()).ID())
}

func (a *app) applyStaffPatch(w http.ResponseWriter, r *http.Request, id string) error {
	var b StaffPatch
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	s, err := a.Cases.ChangeStaff(r.Context(), auth.FromContext(r.Context()), id, b.change())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

func (a *app) deactivateStaff(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Cases.DeactivateStaff(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "staffID"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

// PasswordBody sets a password. Current is needed when people set their own.
type PasswordBody struct {
	Current  string `json:"current,omitempty"`
	Password string `json:"password"`
}

// putMyPassword changes the signed-in person's own password, given the
// current one (checked under the per-account throttle). Their other
// sessions end and every token of theirs is revoked; the answer says how
// many (casework.Revoked).
func (a *app) putMyPassword(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if err := casework.RequireSession(p); err != nil {
		return err // before the body is read: a token never learns whether it was good
	}
	var b PasswordBody
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	rev, err := a.Cases.ChangeMyPassword(r.Context(), p, b.Current, b.Password)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rev)
}

// putStaffPassword is an administrator setting another person's password:
// every session and token of theirs ends, and they are emailed.
func (a *app) putStaffPassword(w http.ResponseWriter, r *http.Request) error {
	var b PasswordBody
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	rev, err := a.Cases.ResetStaffPassword(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "staffID"), b.Password)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rev)
}

// resetStaffMFA is an administrator removing another person's
// authenticator app and recovery codes (a lost phone).
func (a *app) resetStaffMFA(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	rev, err := a.Cases.ResetMFA(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "staffID"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rev)
}

// TeamBody creates a team or, with absent fields kept, changes one.
type TeamBody struct {
	ID            string  `json:"id,omitempty"`
	Name          *string `json:"name,omitempty"`
	Establishment *string `json:"establishment,omitempty"`
	Email         *string `json:"email,omitempty"`
	Manager       *string `json:"manager,omitempty"`
	Head          *string `json:"head,omitempty"`
	Active        *bool   `json:"active,omitempty"`
}

func (a *app) listTeams(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Cases.ListTeams(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		return err
	}
	if list == nil {
		list = []postgres.Team{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (t *TeamBody) apply(team *postgres.Team) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&team.Name, t.Name)
	set(&team.Establishment, t.Establishment)
	set(&team.Email, t.Email)
	set(&team.Manager, t.Manager)
	set(&team.Head, t.Head)
	if t.Active != nil {
		team.Active = *t.Active
	}
}

func (a *app) createTeam(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	var b TeamBody
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	t := postgres.Team{ID: b.ID}
	b.apply(&t)
	t, err := a.Cases.CreateTeam(r.Context(), auth.FromContext(r.Context()), t)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/teams/"+t.ID)
	return writeJSON(w, http.StatusCreated, t)
}

func (a *app) changeTeam(w http.ResponseWriter, r *http.Request, b TeamBody, action string) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	t, err := a.Cases.AdminTeam(ctx, p, chi.URLParam(r, "teamID"))
	if err != nil {
		return err
	}
	if b.ID != "" && b.ID != t.ID {
		return casework.FieldsError(resettlement.Errors{{Field: "id", Message: "cannot be changed"}})
	}
	b.apply(&t)
	if err := a.Cases.UpdateTeam(ctx, p, t, action); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (a *app) patchTeam(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	var b TeamBody
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	return a.changeTeam(w, r, b, "team.update")
}

func (a *app) deactivateTeam(w http.ResponseWriter, r *http.Request) error {
	off := false
	return a.changeTeam(w, r, TeamBody{Active: &off}, "team.deactivate")
}
