package casework

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Administration: staff, teams and the audit log, for administrators. The
// pages (web/pages_admin.go) and the JSON API (api/staff.go) both call
// these, so a form and a request are checked by the same rules and refused
// in the words of the same fields.

var errNotAdmin = Errorf(Forbidden, "Only administrators manage staff, teams and the audit log.")

// RequireAdmin refuses anyone but an administrator.
func RequireAdmin(p *auth.Principal) error {
	if p == nil || !p.IsAdmin() {
		return errNotAdmin
	}
	return nil
}

// Roles are the roles a member of staff may have.
var Roles = []string{auth.RoleOfficer, auth.RoleManager, auth.RoleHead, auth.RoleAdmin}

// StaffFilter narrows the staff list: Q matches the id, name or email
// (any case); Role, Team and Status ("active", "inactive") match exactly.
// Limit is a page's length (25 when 0); below 0, every match (the API's
// list, which is not paged).
type StaffFilter struct {
	Q, Role, Team, Status string
	Offset, Limit         int
}

// StaffList is a page of the staff list.
type StaffList struct {
	Items []postgres.Staff
	Total int
}

// ListStaff is the staff list for an administrator, filtered and paged.
func (s *Service) ListStaff(ctx context.Context, p *auth.Principal, f StaffFilter) (StaffList, error) {
	if err := RequireAdmin(p); err != nil {
		return StaffList{}, err
	}
	all, err := s.DB.AllStaff(ctx)
	if err != nil {
		return StaffList{}, err
	}
	q := strings.ToLower(strings.TrimSpace(f.Q))
	var out StaffList
	for _, m := range all {
		switch {
		case q != "" && !strings.Contains(strings.ToLower(m.ID+" "+m.Name+" "+m.Email), q),
			f.Role != "" && m.Role != f.Role,
			f.Team != "" && m.Team != f.Team,
			f.Status == "active" && !m.Active,
			f.Status == "inactive" && m.Active:
			continue
		}
		out.Items = append(out.Items, m)
	}
	out.Total = len(out.Items)
	if f.Limit < 0 {
		return out, nil
	}
	if f.Limit == 0 {
		f.Limit = 25
	}
	lo := min(max(f.Offset, 0), len(out.Items))
	out.Items = out.Items[lo:min(lo+f.Limit, len(out.Items))]
	return out, nil
}

// StaffMember reads one member of staff for an administrator.
func (s *Service) StaffMember(ctx context.Context, p *auth.Principal, id string) (postgres.Staff, error) {
	if err := RequireAdmin(p); err != nil {
		return postgres.Staff{}, err
	}
	m, err := s.DB.StaffMember(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return m, Errorf(NotFound, "There is no such member of staff.")
	}
	return m, err
}

// StaffRecord reads one member of staff for an administrator, or a person's
// own record for them.
func (s *Service) StaffRecord(ctx context.Context, p *auth.Principal, id string) (postgres.Staff, error) {
	if p == nil || !p.IsAdmin() && id != p.ID() {
		return postgres.Staff{}, Errorf(Forbidden, "Only administrators manage other people's details.")
	}
	m, err := s.DB.StaffMember(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return m, Errorf(NotFound, "There is no such member of staff.")
	}
	return m, err
}

// CheckStaff checks a member of staff's details.
func (s *Service) CheckStaff(ctx context.Context, m postgres.Staff) (resettlement.Errors, error) {
	var errs resettlement.Errors
	if !resettlement.ValidID(m.ID) {
		errs.Add("id", "must be lower-case letters, digits and dashes (up to 63)")
	}
	if strings.TrimSpace(m.Name) == "" || utf8.RuneCountInString(m.Name) > 100 || strings.ContainsAny(m.Name, "<>\x00") {
		errs.Add("name", "is required (up to 100 characters, no < or >)")
	}
	if addr, err := mail.ParseAddress(m.Email); err != nil || addr.Address != m.Email || len(m.Email) > 200 {
		errs.Add("email", "must be an email address such as name@example.org")
	}
	if !slices.Contains(Roles, m.Role) {
		errs.Add("role", "must be one of officer, manager, head, admin")
	}
	checkNotify(m.Notify, &errs)
	if m.Team != "" {
		t, err := s.DB.Team(ctx, m.Team)
		if err != nil && !errors.Is(err, postgres.ErrNotFound) {
			return nil, err
		}
		if err != nil || !t.Active {
			errs.Add("team", "is not an active team")
		}
	} else if m.Role == auth.RoleOfficer {
		errs.Add("team", "is required for an officer: it decides which prison's cases they see")
	}
	return errs, nil
}

// CreateStaff adds a member of staff, with a password when one is given
// (without one they sign in through single sign-on), audited, and returns
// them as stored (active; emailed each reminder unless Notify says digest).
func (s *Service) CreateStaff(ctx context.Context, p *auth.Principal, m postgres.Staff, password string) (postgres.Staff, error) {
	if err := RequireAdmin(p); err != nil {
		return m, err
	}
	if m.Notify == "" {
		m.Notify = "each"
	}
	m.Active = true
	errs, err := s.CheckStaff(ctx, m)
	if err != nil {
		return m, err
	}
	if password != "" {
		if msg := auth.CheckPassword(password); msg != "" {
			errs.Add("password", msg)
		}
	}
	if len(errs) > 0 {
		return m, FieldsError(errs)
	}
	var hash string
	if password != "" {
		if hash, err = auth.HashPassword(password); err != nil {
			return m, err
		}
	}
	err = s.DB.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.CreateStaff(ctx, m); err != nil {
			return err
		}
		if hash != "" {
			return tx.SetPassword(ctx, m.ID, hash)
		}
		return nil
	})
	if errors.Is(err, postgres.ErrExists) {
		return m, Errorf(Conflict, "A member of staff with this id or email already exists.",
			resettlement.FieldError{Field: "id", Message: "or email is already in use"})
	}
	if err != nil {
		return m, err
	}
	return m, s.Audit(ctx, p, "staff.create", "", "staff="+m.ID+" role="+m.Role)
}

// UpdateStaff is an administrator changing a member of staff's name,
// email, role, team or whether they are active (ChangeStaff); their email
// settings stay as they are.
func (s *Service) UpdateStaff(ctx context.Context, p *auth.Principal, m postgres.Staff) error {
	if err := RequireAdmin(p); err != nil {
		return err
	}
	_, err := s.ChangeStaff(ctx, p, m.ID, StaffChange{Name: &m.Name, Email: &m.Email, Role: &m.Role, Team: &m.Team, Active: &m.Active})
	return err
}

// StaffChange changes a member of staff; nil fields stay as they are.
// Notify and AwayUntil are the person's own settings (the zero AwayUntil:
// not away); the rest are an administrator's to change.
type StaffChange struct {
	Name, Email, Role, Team *string
	Active                  *bool
	Notify                  *string
	AwayUntil               *resettlement.Date
}

// administrative reports whether the change is more than the person's own
// settings.
func (c StaffChange) administrative() bool {
	return c.Name != nil || c.Email != nil || c.Role != nil || c.Team != nil || c.Active != nil
}

// ChangeStaff changes a member of staff, all of it or none: an
// administrator anything of anyone's (not their own role or whether they
// are active), anyone else only their own settings, audited. A new role or
// email is told to them (StaffChanged); deactivating them ends their
// sessions and tokens. It returns them as stored.
func (s *Service) ChangeStaff(ctx context.Context, p *auth.Principal, id string, c StaffChange) (postgres.Staff, error) {
	before, err := s.StaffRecord(ctx, p, id)
	if err != nil {
		return before, err
	}
	if c.administrative() && !p.IsAdmin() {
		return before, Errorf(Forbidden, "You can change your own notification preference and away date; an administrator changes the rest.")
	}
	m := before
	for _, f := range []struct{ dst, v *string }{{&m.Name, c.Name}, {&m.Email, c.Email}, {&m.Role, c.Role}, {&m.Team, c.Team}, {&m.Notify, c.Notify}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if c.Active != nil {
		m.Active = *c.Active
	}
	if m.ID == p.ID() && p.IsAdmin() && (m.Role != auth.RoleAdmin || !m.Active) {
		return before, Errorf(Conflict, "You cannot remove your own administrator role or deactivate yourself: ask another administrator.")
	}
	if c.AwayUntil != nil {
		m.AwayUntil = awayTime(*c.AwayUntil)
	}
	// A change of the person's settings alone is checked as the settings
	// page checks it; any other change, the whole record as a new one is.
	var errs resettlement.Errors
	if c.administrative() {
		if errs, err = s.CheckStaff(ctx, m); err != nil {
			return before, err
		}
	} else {
		checkNotify(m.Notify, &errs)
	}
	if c.AwayUntil != nil {
		s.checkAwayUntil(*c.AwayUntil, &errs)
	}
	if len(errs) > 0 {
		return before, FieldsError(errs)
	}
	err = s.DB.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.UpdateStaff(ctx, m); err != nil {
			return err
		}
		if before.Active && !m.Active {
			return tx.SignOutEverywhere(ctx, m.ID)
		}
		return nil
	})
	if errors.Is(err, postgres.ErrExists) {
		return before, Errorf(Conflict, "Another member of staff has this email.", resettlement.FieldError{Field: "email", Message: "is already in use"})
	}
	if err != nil {
		return before, err
	}
	if c.administrative() || m.ID != p.ID() {
		err = s.Audit(ctx, p, "staff.update", "", "staff="+m.ID)
	} else {
		err = s.Audit(ctx, p, "staff.settings", "", "notify="+m.Notify+" muted="+strings.Join(m.Muted, ","))
	}
	if err == nil {
		err = s.StaffChanged(ctx, p, before, m)
	}
	return m, err
}

// DeactivateStaff stops a member of staff signing in: their sessions and
// tokens end, audited. It returns them as stored.
func (s *Service) DeactivateStaff(ctx context.Context, p *auth.Principal, id string) (postgres.Staff, error) {
	m, err := s.StaffMember(ctx, p, id)
	if err != nil {
		return m, err
	}
	if m.ID == p.ID() {
		return m, Errorf(Conflict, "You cannot deactivate yourself: ask another administrator.")
	}
	m.Active = false
	err = s.DB.UpdateStaff(ctx, m)
	if err == nil {
		err = s.DB.SignOutEverywhere(ctx, m.ID)
	}
	if err == nil {
		err = s.Audit(ctx, p, "staff.deactivate", "", "staff="+m.ID)
	}
	return m, err
}

// ResetStaffPassword is an administrator setting another person's
// password (ChangePassword: their sessions and tokens end, and they are
// emailed).
func (s *Service) ResetStaffPassword(ctx context.Context, p *auth.Principal, id, password string) (Revoked, error) {
	if err := RequireSession(p); err != nil {
		return Revoked{}, err
	}
	m, err := s.StaffMember(ctx, p, id)
	if err != nil {
		return Revoked{}, err
	}
	if m.ID == p.ID() {
		return Revoked{}, Errorf(Conflict, "Change your own password in your settings (PUT /api/v1/me/password): it asks for your current one.")
	}
	return s.ChangePassword(ctx, p, m, password)
}

// Teams.

// ListTeams lists every team for an administrator.
func (s *Service) ListTeams(ctx context.Context, p *auth.Principal) ([]postgres.Team, error) {
	if err := RequireAdmin(p); err != nil {
		return nil, err
	}
	return s.DB.AllTeams(ctx)
}

// AdminTeam reads one team for an administrator.
func (s *Service) AdminTeam(ctx context.Context, p *auth.Principal, id string) (postgres.Team, error) {
	if err := RequireAdmin(p); err != nil {
		return postgres.Team{}, err
	}
	t, err := s.DB.Team(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return t, Errorf(NotFound, "There is no such team.")
	}
	return t, err
}

// CheckTeam checks a team, and that its manager manages and its head heads.
func (s *Service) CheckTeam(ctx context.Context, t postgres.Team) (resettlement.Errors, error) {
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
		m, err := s.DB.StaffMember(ctx, f.id)
		if err != nil && !errors.Is(err, postgres.ErrNotFound) {
			return nil, err
		}
		if err != nil || !m.Active {
			errs.Add(f.field, "is not an active member of staff")
		} else if !slices.Contains(f.roles, m.Role) {
			errs.Add(f.field, "must have the role "+strings.Join(f.roles, " or "))
		}
	}
	return errs, nil
}

// CreateTeam adds a team, active, audited, and returns it as stored.
func (s *Service) CreateTeam(ctx context.Context, p *auth.Principal, t postgres.Team) (postgres.Team, error) {
	if err := RequireAdmin(p); err != nil {
		return t, err
	}
	t.Active = true
	errs, err := s.CheckTeam(ctx, t)
	if err != nil {
		return t, err
	}
	if len(errs) > 0 {
		return t, FieldsError(errs)
	}
	err = s.DB.CreateTeam(ctx, t)
	if errors.Is(err, postgres.ErrExists) {
		return t, Errorf(Conflict, "A team with this id already exists.", resettlement.FieldError{Field: "id", Message: "is already in use"})
	}
	if err != nil {
		return t, err
	}
	return t, s.Audit(ctx, p, "team.create", "", "team="+t.ID)
}

// UpdateTeam changes a team (its id stays), audited as action
// ("team.update", "team.deactivate").
func (s *Service) UpdateTeam(ctx context.Context, p *auth.Principal, t postgres.Team, action string) error {
	if _, err := s.AdminTeam(ctx, p, t.ID); err != nil {
		return err
	}
	errs, err := s.CheckTeam(ctx, t)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return FieldsError(errs)
	}
	if err := s.DB.UpdateTeam(ctx, t); err != nil {
		return err
	}
	return s.Audit(ctx, p, action, "", "team="+t.ID)
}

// The audit log.

// AuditQuery is what an administrator looks for in the audit log: a
// person (staff id), an action (a prefix: "case." matches every case
// action), a case, and days from and to (both included).
type AuditQuery struct {
	Actor, Action, CaseID string
	From, To              resettlement.Date
	Before                int64 // page: entries older than this id
	Limit                 int
}

// Check names each field at fault.
func (q AuditQuery) Check() error {
	var errs resettlement.Errors
	if len(q.Actor) > 100 {
		errs.Add("actor", "is too long")
	}
	if len(q.Action) > 100 {
		errs.Add("action", "is too long")
	}
	if q.CaseID != "" && !resettlement.ValidID(q.CaseID) {
		errs.Add("case_id", "is not a case reference")
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		errs.Add("to", "cannot be before the first day")
	}
	return errs.Err()
}

func (q AuditQuery) filter() postgres.AuditFilter {
	f := postgres.AuditFilter{Actor: q.Actor, Action: q.Action, CaseID: q.CaseID, Before: q.Before, Limit: q.Limit}
	if !q.From.IsZero() {
		f.From = q.From.At(0)
	}
	if !q.To.IsZero() {
		f.To = q.To.AddDays(1).At(0)
	}
	return f
}

// AuditPage is a page of the audit log, newest first; Next is the id to
// read on from (0 on the last page).
type AuditPage struct {
	Items []postgres.AuditEntry
	Next  int64
}

// AuditLog reads a page of the audit log for an administrator.
func (s *Service) AuditLog(ctx context.Context, p *auth.Principal, q AuditQuery) (AuditPage, error) {
	if err := RequireAdmin(p); err != nil {
		return AuditPage{}, err
	}
	if err := q.Check(); err != nil {
		return AuditPage{}, err
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	f := q.filter()
	f.Limit = q.Limit + 1
	list, err := s.DB.AuditLog(ctx, f)
	if err != nil {
		return AuditPage{}, err
	}
	out := AuditPage{Items: list}
	if len(list) > q.Limit {
		out.Items = list[:q.Limit]
		out.Next = out.Items[q.Limit-1].ID
	}
	// Reading the audit log is itself audited, as the API's list is.
	return out, s.Audit(ctx, p, "audit.read", q.CaseID, f.String()+" shown="+strconv.Itoa(len(out.Items)))
}

// AuditExport reads the whole of the audit log the query selects, newest
// first, a thousand lines at a time, handing each page to write; the
// export itself is audited first.
func (s *Service) AuditExport(ctx context.Context, p *auth.Principal, q AuditQuery, write func([]postgres.AuditEntry) error) error {
	if err := RequireAdmin(p); err != nil {
		return err
	}
	if err := q.Check(); err != nil {
		return err
	}
	if err := s.Audit(ctx, p, "audit.export", q.CaseID, q.filter().String()); err != nil {
		return err
	}
	f := q.filter()
	f.Limit, f.Before = 1000, 0
	for {
		page, err := s.DB.AuditLog(ctx, f)
		if err != nil {
			return err
		}
		if err := write(page); err != nil {
			return err
		}
		if len(page) < f.Limit {
			return nil
		}
		f.Before = page[len(page)-1].ID
	}
}
