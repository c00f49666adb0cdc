package web

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Administration pages: staff (list with search and filters, create, edit
// role, team and email, deactivate, set a password, reset two-step
// sign-in), teams (create, edit with their manager and head of service,
// deactivate) and the audit log (filters, pages, CSV). Administrators
// only, through the casework service's administration (casework/admin.go),
// which checks what the JSON API checks.

const staffPerPage = 25

type staffListPage struct {
	Filters     *pageForm
	Roles       []option
	Teams       []option
	Statuses    []option
	Rows        []staffRow
	Total       int
	From, To    int
	Prev, Next  string
	TeamName    map[string]string
	FilterQuery string
}

type staffRow struct {
	postgres.Staff
	TeamName string
}

var roleLabels = map[string]string{auth.RoleOfficer: "Resettlement officer", auth.RoleManager: "Team manager", auth.RoleHead: "Head of service", auth.RoleAdmin: "Administrator"}

func roleOptions() []option {
	var out []option
	for _, r := range casework.Roles {
		out = append(out, option{Value: r, Label: roleLabels[r]})
	}
	return out
}

func teamOptions(teams []postgres.Team, activeOnly bool) []option {
	var out []option
	for _, t := range teams {
		if activeOnly && !t.Active {
			continue
		}
		label := t.Name + " (" + t.Establishment + ")"
		if !t.Active {
			label += ", inactive"
		}
		out = append(out, option{Value: t.ID, Label: label})
	}
	return out
}

func (a *site) pageAdmin(w http.ResponseWriter, r *http.Request) error {
	if err := casework.RequireAdmin(auth.FromContext(r.Context())); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/staff", http.StatusSeeOther)
	return nil
}

func (a *site) pageStaffList(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	f := casework.StaffFilter{Q: q.Get("q"), Role: q.Get("role"), Team: q.Get("team"), Status: q.Get("status"),
		Offset: (page - 1) * staffPerPage, Limit: staffPerPage}
	list, err := a.Cases.ListStaff(ctx, p, f)
	if err != nil {
		return err
	}
	teams, err := a.Cases.ListTeams(ctx, p)
	if err != nil {
		return err
	}
	d := staffListPage{Total: list.Total, Roles: roleOptions(), Teams: teamOptions(teams, false),
		Statuses: []option{{Value: "active", Label: "Active"}, {Value: "inactive", Label: "Deactivated"}}, TeamName: map[string]string{}}
	for _, t := range teams {
		d.TeamName[t.ID] = t.Name
	}
	keep := url.Values{}
	for _, k := range []string{"q", "role", "team", "status"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	d.Filters = newForm("staff-filters", "/admin/staff", "q", "role", "team", "status").set(keep)
	for _, m := range list.Items {
		d.Rows = append(d.Rows, staffRow{Staff: m, TeamName: d.TeamName[m.Team]})
	}
	if len(list.Items) > 0 {
		d.From, d.To = f.Offset+1, f.Offset+len(list.Items)
	}
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range keep {
			v[k] = vs
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return "/admin/staff"
		}
		return "/admin/staff?" + v.Encode()
	}
	if page > 1 {
		d.Prev = link(page - 1)
	}
	if f.Offset+len(list.Items) < list.Total {
		d.Next = link(page + 1)
	}
	a.render(w, r, http.StatusOK, "admin-staff", pageData{Title: "Staff", Section: "admin-staff", Data: d})
	return nil
}

// staffEditPage creates a member of staff (New) or changes one.
type staffEditPage struct {
	New      bool
	Staff    postgres.Staff
	Form     *pageForm
	Password *pageForm
	Roles    []option
	Teams    []option
	TwoStep  bool
	Self     bool
}

func staffFields(isNew bool) []string {
	if isNew {
		return []string{"id", "name", "email", "role", "team", "password"}
	}
	return []string{"name", "email", "role", "team", "active"}
}

func (a *site) renderStaffEdit(w http.ResponseWriter, r *http.Request, status int, d staffEditPage, failed *pageForm) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	teams, err := a.Cases.ListTeams(ctx, p)
	if err != nil {
		return err
	}
	d.Roles, d.Teams = roleOptions(), append([]option{{Value: "", Label: "No team"}}, teamOptions(teams, true)...)
	d.Self = d.Staff.ID == p.ID()
	title := "Add a member of staff"
	if !d.New {
		title = d.Staff.Name
		if d.Password == nil {
			d.Password = newForm("set-password", "/admin/staff/"+d.Staff.ID+"/password", "password")
		}
	}
	pd := pageData{Title: title, Section: "admin-staff", Data: d}
	if failed != nil {
		pd.Summary = failed.summary()
	}
	a.render(w, r, status, "admin-staff-edit", pd)
	return nil
}

func (a *site) pageStaffNew(w http.ResponseWriter, r *http.Request) error {
	if err := casework.RequireAdmin(auth.FromContext(r.Context())); err != nil {
		return err
	}
	f := newForm("staff", "/admin/staff/new", staffFields(true)...)
	f.Values.Set("role", auth.RoleOfficer)
	return a.renderStaffEdit(w, r, http.StatusOK, staffEditPage{New: true, Form: f}, nil)
}

func staffOf(f url.Values) postgres.Staff {
	return postgres.Staff{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), Email: strings.TrimSpace(f.Get("email")),
		Role: f.Get("role"), Team: f.Get("team")}
}

func (a *site) pageStaffNewPost(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	m := staffOf(f)
	m, err := a.Cases.CreateStaff(r.Context(), auth.FromContext(r.Context()), m, f.Get("password"))
	if err == nil {
		a.redirectWith(w, r, "/admin/staff/"+m.ID, "Added "+m.Name+". They are emailed when their password is set.")
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	form := newForm("staff", "/admin/staff/new", staffFields(true)...).labelled(staffLabels).set(f)
	form.fail(e, nil)
	return a.renderStaffEdit(w, r, casework.Status(err), staffEditPage{New: true, Form: form}, form)
}

func (a *site) pageStaffEdit(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	m, err := a.Cases.StaffMember(ctx, p, chi.URLParam(r, "staffID"))
	if err != nil {
		return err
	}
	form := newForm("staff", "/admin/staff/"+m.ID, staffFields(false)...)
	form.Values = url.Values{"name": {m.Name}, "email": {m.Email}, "role": {m.Role}, "team": {m.Team}}
	if m.Active {
		form.Values.Set("active", "true")
	}
	d := staffEditPage{Staff: m, Form: form}
	if st, err := a.Cases.DB.TOTP(ctx, m.ID); err == nil && st.Confirmed {
		d.TwoStep = true
	}
	return a.renderStaffEdit(w, r, http.StatusOK, d, nil)
}

func (a *site) pageStaffEditPost(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	ctx, p, f := r.Context(), auth.FromContext(r.Context()), r.PostForm
	before, err := a.Cases.StaffMember(ctx, p, chi.URLParam(r, "staffID"))
	if err != nil {
		return err
	}
	m := staffOf(f)
	m.ID, m.Active = before.ID, f.Get("active") == "true"
	err = a.Cases.UpdateStaff(ctx, p, m)
	if err == nil {
		a.redirectWith(w, r, "/admin/staff/"+m.ID, "Saved the changes to "+m.Name+".")
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	form := newForm("staff", "/admin/staff/"+before.ID, staffFields(false)...).labelled(staffLabels).set(f)
	form.fail(e, nil)
	return a.renderStaffEdit(w, r, casework.Status(err), staffEditPage{Staff: before, Form: form}, form)
}

func (a *site) pageStaffDeactivate(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	id := chi.URLParam(r, "staffID")
	if _, err := a.Cases.DeactivateStaff(r.Context(), auth.FromContext(r.Context()), id); err != nil {
		return err
	}
	a.redirectWith(w, r, "/admin/staff/"+id, "Deactivated: they can no longer sign in, and their sessions and tokens have ended.")
	return nil
}

func (a *site) pageStaffPassword(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	ctx, p := r.Context(), auth.FromContext(r.Context())
	id := chi.URLParam(r, "staffID")
	rev, err := a.Cases.ResetStaffPassword(ctx, p, id, r.PostForm.Get("password"))
	if err == nil {
		a.redirectWith(w, r, "/admin/staff/"+id, "Password set. They have been emailed; "+plural(int(rev.SessionsEnded), "session")+" ended and "+
			plural(int(rev.TokensRevoked), "token")+" revoked.")
		return nil
	}
	e := formError(err)
	if e == nil || e.Kind == casework.NotFound {
		return err
	}
	m, merr := a.Cases.StaffMember(ctx, p, id)
	if merr != nil {
		return merr
	}
	pw := newForm("set-password", "/admin/staff/"+id+"/password", "password").labelled(map[string]string{"password": "New password"})
	pw.fail(e, nil)
	form := newForm("staff", "/admin/staff/"+m.ID, staffFields(false)...)
	form.Values = url.Values{"name": {m.Name}, "email": {m.Email}, "role": {m.Role}, "team": {m.Team}}
	if m.Active {
		form.Values.Set("active", "true")
	}
	return a.renderStaffEdit(w, r, casework.Status(err), staffEditPage{Staff: m, Form: form, Password: pw}, pw)
}

func (a *site) pageStaffResetTwoStep(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	id := chi.URLParam(r, "staffID")
	p := auth.FromContext(r.Context())
	if err := casework.RequireAdmin(p); err != nil {
		return err
	}
	if _, err := a.Cases.ResetMFA(r.Context(), p, id); err != nil {
		return err
	}
	a.redirectWith(w, r, "/admin/staff/"+id, "Two-step sign-in reset: they set up an authenticator app again at their next sign-in.")
	return nil
}

// Teams.

type teamsPage struct {
	Rows  []teamRow
	Names map[string]string
}

type teamRow struct {
	postgres.Team
	ManagerName, HeadName string
}

func (a *site) pageTeams(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	teams, err := a.Cases.ListTeams(ctx, p)
	if err != nil {
		return err
	}
	var ids []string
	for _, t := range teams {
		ids = append(ids, t.Manager, t.Head)
	}
	names, err := a.Cases.StaffNames(ctx, ids)
	if err != nil {
		return err
	}
	d := teamsPage{Names: names}
	for _, t := range teams {
		d.Rows = append(d.Rows, teamRow{Team: t, ManagerName: names[t.Manager], HeadName: names[t.Head]})
	}
	a.render(w, r, http.StatusOK, "admin-teams", pageData{Title: "Teams", Section: "admin-teams", Data: d})
	return nil
}

type teamEditPage struct {
	New      bool
	Team     postgres.Team
	Form     *pageForm
	Managers []option
	Heads    []option
}

// teamLabels and staffLabels name the forms' inputs in their errors.
var (
	teamLabels  = map[string]string{"id": "Team id", "name": "Team name", "establishment": "Prison", "email": "Queue email address"}
	staffLabels = map[string]string{"name": "Full name"}
)

func teamFields(isNew bool) []string {
	if isNew {
		return []string{"id", "name", "establishment", "email", "manager", "head"}
	}
	return []string{"name", "establishment", "email", "manager", "head", "active"}
}

func (a *site) renderTeamEdit(w http.ResponseWriter, r *http.Request, status int, d teamEditPage, failed *pageForm) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	staff, err := a.Cases.ListStaff(ctx, p, casework.StaffFilter{Status: "active", Limit: 10000})
	if err != nil {
		return err
	}
	d.Managers = []option{{Value: "", Label: "Nobody"}}
	d.Heads = []option{{Value: "", Label: "Nobody"}}
	for _, m := range staff.Items {
		switch m.Role {
		case auth.RoleHead:
			d.Heads = append(d.Heads, option{Value: m.ID, Label: m.Name + " (head of service)"})
			d.Managers = append(d.Managers, option{Value: m.ID, Label: m.Name + " (head of service)"})
		case auth.RoleManager:
			d.Managers = append(d.Managers, option{Value: m.ID, Label: m.Name})
		}
	}
	title := "Add a team"
	if !d.New {
		title = d.Team.Name
	}
	pd := pageData{Title: title, Section: "admin-teams", Data: d}
	if failed != nil {
		pd.Summary = failed.summary()
	}
	a.render(w, r, status, "admin-team-edit", pd)
	return nil
}

func teamOf(f url.Values) postgres.Team {
	return postgres.Team{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")),
		Establishment: strings.ToUpper(strings.TrimSpace(f.Get("establishment"))), Email: strings.TrimSpace(f.Get("email")),
		Manager: f.Get("manager"), Head: f.Get("head")}
}

func (a *site) pageTeamNew(w http.ResponseWriter, r *http.Request) error {
	if err := casework.RequireAdmin(auth.FromContext(r.Context())); err != nil {
		return err
	}
	return a.renderTeamEdit(w, r, http.StatusOK, teamEditPage{New: true, Form: newForm("team", "/admin/teams/new", teamFields(true)...)}, nil)
}

func (a *site) pageTeamNewPost(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	t := teamOf(r.PostForm)
	t, err := a.Cases.CreateTeam(r.Context(), auth.FromContext(r.Context()), t)
	if err == nil {
		a.redirectWith(w, r, "/admin/teams", "Added the team "+t.Name+".")
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	form := newForm("team", "/admin/teams/new", teamFields(true)...).labelled(teamLabels).set(r.PostForm)
	form.fail(e, nil)
	return a.renderTeamEdit(w, r, casework.Status(err), teamEditPage{New: true, Form: form}, form)
}

func (a *site) pageTeamEdit(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Cases.AdminTeam(r.Context(), auth.FromContext(r.Context()), chi.URLParam(r, "teamID"))
	if err != nil {
		return err
	}
	form := newForm("team", "/admin/teams/"+t.ID, teamFields(false)...)
	form.Values = url.Values{"name": {t.Name}, "establishment": {t.Establishment}, "email": {t.Email}, "manager": {t.Manager}, "head": {t.Head}}
	if t.Active {
		form.Values.Set("active", "true")
	}
	return a.renderTeamEdit(w, r, http.StatusOK, teamEditPage{Team: t, Form: form}, nil)
}

func (a *site) pageTeamEditPost(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	ctx, p := r.Context(), auth.FromContext(r.Context())
	before, err := a.Cases.AdminTeam(ctx, p, chi.URLParam(r, "teamID"))
	if err != nil {
		return err
	}
	t := teamOf(r.PostForm)
	t.ID, t.Active = before.ID, r.PostForm.Get("active") == "true"
	action := "team.update"
	if before.Active && !t.Active {
		action = "team.deactivate"
	}
	err = a.Cases.UpdateTeam(ctx, p, t, action)
	if err == nil {
		a.redirectWith(w, r, "/admin/teams", "Saved the changes to "+t.Name+".")
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	form := newForm("team", "/admin/teams/"+before.ID, teamFields(false)...).labelled(teamLabels).set(r.PostForm)
	form.fail(e, nil)
	return a.renderTeamEdit(w, r, casework.Status(err), teamEditPage{Team: before, Form: form}, form)
}

func (a *site) pageTeamDeactivate(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	ctx, p := r.Context(), auth.FromContext(r.Context())
	t, err := a.Cases.AdminTeam(ctx, p, chi.URLParam(r, "teamID"))
	if err != nil {
		return err
	}
	t.Active = false
	if err := a.Cases.UpdateTeam(ctx, p, t, "team.deactivate"); err != nil {
		return err
	}
	a.redirectWith(w, r, "/admin/teams", "Deactivated the team "+t.Name+": no new work goes to it.")
	return nil
}

// The audit log.

type auditPage struct {
	Filters *pageForm
	Rows    []auditRow
	Next    string
	First   string
	CSV     string
	Query   bool
}

type auditRow struct {
	postgres.AuditEntry
	When string
}

var auditFields = []string{"actor", "action", "case_id", "from", "to"}

// auditQuery reads the audit log's filters from the address (no personal
// data: staff ids, actions, case references and days).
func auditQuery(q url.Values) (casework.AuditQuery, url.Values, resettlement.Errors) {
	var errs resettlement.Errors
	aq := casework.AuditQuery{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		CaseID: strings.TrimSpace(q.Get("case_id")), From: formDate(q, "from", &errs), To: formDate(q, "to", &errs)}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs.Add("cursor", "is not a page of the audit log")
		}
		aq.Before = n
	}
	keep := url.Values{}
	for _, k := range []string{"actor", "action", "case_id", "from-day", "from-month", "from-year", "to-day", "to-month", "to-year", "from", "to"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			keep.Set(k, v)
		}
	}
	return aq, keep, errs
}

func (a *site) pageAudit(w http.ResponseWriter, r *http.Request) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	if err := casework.RequireAdmin(p); err != nil {
		return err
	}
	aq, keep, errs := auditQuery(r.URL.Query())
	d := auditPage{Filters: newForm("audit-filters", "/admin/audit", auditFields...).set(keep), Query: len(keep) > 0}
	var err error
	var list casework.AuditPage
	if len(errs) > 0 {
		err = casework.FieldsError(errs)
	} else {
		list, err = a.Cases.AuditLog(ctx, p, aq)
	}
	status := http.StatusOK
	var summary []summaryItem
	if err != nil {
		e := formError(err)
		if e == nil {
			return err
		}
		d.Filters.fail(e, nil)
		status, summary = casework.Status(err), d.Filters.summary()
	}
	for _, e := range list.Items {
		d.Rows = append(d.Rows, auditRow{AuditEntry: e, When: e.At.In(resettlement.London).Format("2 Jan 2006, 15:04:05")})
	}
	d.CSV = "/admin/audit.csv"
	if len(keep) > 0 {
		d.CSV += "?" + keep.Encode()
	}
	if list.Next != 0 {
		nq := url.Values{}
		for k, v := range keep {
			nq[k] = v
		}
		nq.Set("cursor", strconv.FormatInt(list.Next, 10))
		d.Next = "/admin/audit?" + nq.Encode()
	}
	if aq.Before != 0 {
		d.First = "/admin/audit"
		if len(keep) > 0 {
			d.First += "?" + keep.Encode()
		}
	}
	a.render(w, r, status, "admin-audit", pageData{Title: "Audit log", Section: "admin-audit", Summary: summary, Data: d})
	return nil
}

func (a *site) pageAuditCSV(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	aq, _, errs := auditQuery(r.URL.Query())
	if len(errs) > 0 {
		return casework.Errorf(casework.Invalid, "The audit log's filters are not right: "+errorText(errs))
	}
	aq.Before = 0
	started := false
	cw := csv.NewWriter(w)
	err := a.Cases.AuditExport(r.Context(), p, aq, func(page []postgres.AuditEntry) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="throughgate-audit.csv"`)
			w.Header().Set("Cache-Control", "no-store")
			_ = cw.Write([]string{"id", "at", "actor", "action", "case_id", "detail", "remote"})
		}
		for _, e := range page {
			_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), casework.SpreadsheetSafe(e.Actor),
				casework.SpreadsheetSafe(e.Action), casework.SpreadsheetSafe(e.CaseID), casework.SpreadsheetSafe(e.Detail), casework.SpreadsheetSafe(e.Remote)})
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil && started {
		a.Logger.ErrorContext(r.Context(), "audit export cut short", "err", err)
		return nil // the response has begun: it can only be cut short
	}
	if e, ok := casework.ErrorOf(err); ok && len(e.Fields) > 0 {
		return casework.Errorf(e.Kind, "The audit log's filters are not right: "+errorText(e.Fields))
	}
	return err
}
