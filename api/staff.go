package api

import (
	"errors"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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

var roles = []string{auth.RoleOfficer, auth.RoleManager, auth.RoleHead, auth.RoleAdmin}

// checkStaff checks a member of staff's details.
func (a *app) checkStaff(r *http.Request, s postgres.Staff) (resettlement.Errors, error) {
	var errs resettlement.Errors
	if !resettlement.ValidID(s.ID) {
		errs.Add("id", "must be lower-case letters, digits and dashes (up to 63)")
	}
	if strings.TrimSpace(s.Name) == "" || utf8.RuneCountInString(s.Name) > 100 || strings.ContainsAny(s.Name, "<>\x00") {
		errs.Add("name", "is required (up to 100 characters, no < or >)")
	}
	if addr, err := mail.ParseAddress(s.Email); err != nil || addr.Address != s.Email || len(s.Email) > 200 {
		errs.Add("email", "must be an email address such as name@example.org")
	}
	if !slices.Contains(roles, s.Role) {
		errs.Add("role", "must be one of officer, manager, head, admin")
	}
	if s.Notify != "each" && s.Notify != "digest" {
		errs.Add("notify", "must be each (an email per reminder) or digest (one a day)")
	}
	if s.Team != "" {
		t, err := a.DB.Team(r.Context(), s.Team)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if err != nil || !t.Active {
			errs.Add("team", "is not an active team")
		}
	} else if s.Role == auth.RoleOfficer {
		errs.Add("team", "is required for an officer: it decides which prison's cases they see")
	}
	return errs, nil
}

func dateTime(d resettlement.Date) *time.Time {
	if d.IsZero() {
		return nil
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return &t
}

func (a *app) listStaff(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	list, err := a.DB.AllStaff(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (a *app) createStaff(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	var b NewStaff
	if p := decode(r, &b); p != nil {
		return p
	}
	s := postgres.Staff{ID: b.ID, Name: b.Name, Email: b.Email, Role: b.Role, Team: b.Team, Notify: b.Notify,
		AwayUntil: dateTime(b.AwayUntil), Active: true}
	if s.Notify == "" {
		s.Notify = "each"
	}
	errs, err := a.checkStaff(r, s)
	if err != nil {
		return err
	}
	if b.Password != "" {
		if msg := auth.CheckPassword(b.Password); msg != "" {
			errs.Add("password", msg)
		}
	}
	if len(errs) > 0 {
		return casework.FieldsError(errs)
	}
	var hash string
	if b.Password != "" {
		if hash, err = auth.HashPassword(b.Password); err != nil {
			return err
		}
	}
	err = a.DB.InTx(r.Context(), func(tx *postgres.DB) error {
		if err := tx.CreateStaff(r.Context(), s); err != nil {
			return err
		}
		if hash != "" {
			return tx.SetPassword(r.Context(), s.ID, hash)
		}
		return nil
	})
	if errors.Is(err, postgres.ErrExists) {
		return casework.Errorf(casework.Conflict, "A member of staff with this id or email already exists.",
			resettlement.FieldError{Field: "id", Message: "or email is already in use"})
	}
	if err == nil {
		err = a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "staff.create", "", "staff="+s.ID+" role="+s.Role)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/staff/"+s.ID)
	return writeJSON(w, http.StatusCreated, s)
}

// staffFor reads the member of staff the URL names, for an administrator
// or the person themself.
func (a *app) staffFor(r *http.Request) (postgres.Staff, error) {
	p := auth.FromContext(r.Context())
	id := chi.URLParam(r, "staffID")
	if !p.IsAdmin() && id != p.ID() {
		return postgres.Staff{}, casework.Errorf(casework.Forbidden, "Only administrators manage other people's details.")
	}
	s, err := a.DB.StaffMember(r.Context(), id)
	if isNotFound(err) {
		return s, casework.Errorf(casework.NotFound, "There is no such member of staff.")
	}
	return s, err
}

func (a *app) getStaff(w http.ResponseWriter, r *http.Request) error {
	s, err := a.staffFor(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

func (a *app) patchStaff(w http.ResponseWriter, r *http.Request) error {
	s, err := a.staffFor(r)
	if err != nil {
		return err
	}
	return a.applyStaffPatch(w, r, s)
}

func (a *app) patchMe(w http.ResponseWriter, r *http.Request) error {
	return a.applyStaffPatch(w, r, auth.FromContext(r.Context()).Staff)
}

func (a *app) applyStaffPatch(w http.ResponseWriter, r *http.Request, s postgres.Staff) error {
	p := auth.FromContext(r.Context())
	var b StaffPatch
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	if !p.IsAdmin() && (b.Name != nil || b.Email != nil || b.Role != nil || b.Team != nil || b.Active != nil) {
		return casework.Errorf(casework.Forbidden, "You can change your own notification preference and away date; an administrator changes the rest.")
	}
	if p.IsAdmin() && s.ID == p.ID() && (b.Role != nil && *b.Role != auth.RoleAdmin || b.Active != nil && !*b.Active) {
		return casework.Errorf(casework.Conflict, "You cannot remove your own administrator role or deactivate yourself: ask another administrator.")
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	before := s
	set(&s.Name, b.Name)
	set(&s.Email, b.Email)
	set(&s.Role, b.Role)
	set(&s.Team, b.Team)
	set(&s.Notify, b.Notify)
	if b.AwayUntil != nil {
		s.AwayUntil = dateTime(*b.AwayUntil)
	}
	wasActive := s.Active
	if b.Active != nil {
		s.Active = *b.Active
	}
	errs, err := a.checkStaff(r, s)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return casework.FieldsError(errs)
	}
	err = a.DB.UpdateStaff(r.Context(), s)
	if errors.Is(err, postgres.ErrExists) {
		return casework.Errorf(casework.Conflict, "Another member of staff has this email.", resettlement.FieldError{Field: "email", Message: "is already in use"})
	}
	if err == nil && wasActive && !s.Active {
		err = a.DB.SignOutEverywhere(r.Context(), s.ID)
	}
	if err == nil {
		err = a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "staff.update", "", "staff="+s.ID)
	}
	if err == nil {
		err = a.Cases.StaffChanged(r.Context(), p, before, s) // a new role or email address: audited and told
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s)
}

func (a *app) deactivateStaff(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	s, err := a.staffFor(r)
	if err != nil {
		return err
	}
	if s.ID == auth.FromContext(r.Context()).ID() {
		return casework.Errorf(casework.Conflict, "You cannot deactivate yourself: ask another administrator.")
	}
	s.Active = false
	err = a.DB.UpdateStaff(r.Context(), s)
	if err == nil {
		err = a.DB.SignOutEverywhere(r.Context(), s.ID)
	}
	if err == nil {
		err = a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "staff.deactivate", "", "staff="+s.ID)
	}
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
		return err
	}
	var b PasswordBody
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	if msg := auth.CheckPassword(b.Password); msg != "" { // before the current one is tried: no guess spent on a bad form
		return casework.FieldsError(resettlement.Errors{{Field: "password", Message: msg}})
	}
	if err := a.Cases.CheckCurrentPassword(r.Context(), p, b.Current); err != nil {
		return err
	}
	rev, err := a.Cases.ChangePassword(r.Context(), p, p.Staff, b.Password)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rev)
}

// putStaffPassword is an administrator setting another person's password:
// every session and token of theirs ends, and they are emailed.
func (a *app) putStaffPassword(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	p := auth.FromContext(r.Context())
	if err := casework.RequireSession(p); err != nil {
		return err
	}
	s, err := a.staffFor(r)
	if err != nil {
		return err
	}
	if s.ID == p.ID() {
		return casework.Errorf(casework.Conflict, "Change your own password with PUT /api/v1/me/password: it asks for your current one.")
	}
	var b PasswordBody
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	rev, err := a.Cases.ChangePassword(r.Context(), p, s, b.Password)
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
	if p := requireAdmin(r); p != nil {
		return p
	}
	list, err := a.DB.AllTeams(r.Context())
	if err != nil {
		return err
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

// checkTeam checks a team, and that its manager manages and its head heads.
func (a *app) checkTeam(r *http.Request, t postgres.Team) (resettlement.Errors, error) {
	var errs resettlement.Errors
	if !resettlement.ValidID(t.ID) {
		errs.Add("id", "must be lower-case letters, digits and dashes (up to 63)")
	}
	if strings.TrimSpace(t.Name) == "" || utf8.RuneCountInString(t.Name) > 100 || strings.ContainsAny(t.Name, "<>\x00") {
		errs.Add("name", "is required (up to 100 characters, no < or >)")
	}
	if !resettlement.ValidEstablishment(t.Establishment) {
		errs.Add("establishment", "must be a three-letter prison code such as PVI")
	}
	if t.Email != "" {
		if addr, err := mail.ParseAddress(t.Email); err != nil || addr.Address != t.Email {
			errs.Add("email", "must be an email address (the team's shared queue)")
		}
	}
	for _, f := range []struct {
		field, id string
		roles     []string
	}{{"manager", t.Manager, []string{auth.RoleManager, auth.RoleHead}}, {"head", t.Head, []string{auth.RoleHead}}} {
		if f.id == "" {
			continue
		}
		s, err := a.DB.StaffMember(r.Context(), f.id)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if err != nil || !s.Active {
			errs.Add(f.field, "is not an active member of staff")
		} else if !slices.Contains(f.roles, s.Role) {
			errs.Add(f.field, "must have the role "+strings.Join(f.roles, " or "))
		}
	}
	return errs, nil
}

func (a *app) createTeam(w http.ResponseWriter, r *http.Request) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	var b TeamBody
	if pe := decode(r, &b); pe != nil {
		return pe
	}
	t := postgres.Team{ID: b.ID, Active: true}
	b.apply(&t)
	errs, err := a.checkTeam(r, t)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return casework.FieldsError(errs)
	}
	err = a.DB.CreateTeam(r.Context(), t)
	if errors.Is(err, postgres.ErrExists) {
		return casework.Errorf(casework.Conflict, "A team with this id already exists.", resettlement.FieldError{Field: "id", Message: "is already in use"})
	}
	if err == nil {
		err = a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), "team.create", "", "team="+t.ID)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/teams/"+t.ID)
	return writeJSON(w, http.StatusCreated, t)
}

func (a *app) changeTeam(w http.ResponseWriter, r *http.Request, b TeamBody, action string) error {
	if p := requireAdmin(r); p != nil {
		return p
	}
	t, err := a.DB.Team(r.Context(), chi.URLParam(r, "teamID"))
	if isNotFound(err) {
		return casework.Errorf(casework.NotFound, "There is no such team.")
	}
	if err != nil {
		return err
	}
	if b.ID != "" && b.ID != t.ID {
		return casework.FieldsError(resettlement.Errors{{Field: "id", Message: "cannot be changed"}})
	}
	b.apply(&t)
	errs, err := a.checkTeam(r, t)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return casework.FieldsError(errs)
	}
	err = a.DB.UpdateTeam(r.Context(), t)
	if err == nil {
		err = a.Cases.Audit(r.Context(), auth.FromContext(r.Context()), action, "", "team="+t.ID)
	}
	if err != nil {
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
