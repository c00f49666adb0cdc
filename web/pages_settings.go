package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// A person's own settings (/account; the emails' "your Throughgate
// settings"): an email per reminder or a daily digest, which kinds of
// email to turn off (never escalations), when they are back from being
// away, their password, their personal access tokens and two-step
// sign-in. Each is its own form, through the casework service as the
// API's /me routes are.

type settingsPage struct {
	Me       postgres.Staff
	Emails   *pageForm
	Away     *pageForm
	Back     *pageForm
	Password *pageForm
	Token    *pageForm
	Notify   []option
	Kinds    []option
	Tokens   []tokenRow
	NewToken *casework.NewToken
	AwayDay  string
	TwoStep  casework.MFAStatus
	Session  bool
}

type tokenRow struct {
	ID                                  int64
	Name, Created, Expires, Used, State string
	Live                                bool
	Revoke                              *pageForm
}

var tokenLabels = map[string]string{"name": "What it is for", "password": "New password"}

var kindLabels = map[string]option{
	"reminder":   {Label: "Reminders", Hint: "Before a step you own is due."},
	"due":        {Label: "Due today", Hint: "On the day a step you own falls due."},
	"unassigned": {Label: "Work left in a team's queue", Hint: "For managers: steps that land in the queue with nobody to do them."},
	"transfer":   {Label: "Transfers", Hint: "When a case moves to or from your prison."},
	"assigned":   {Label: "Work given to you", Hint: "When someone gives you a case or a step."},
}

func (a *site) pageSettings(w http.ResponseWriter, r *http.Request) error {
	return a.renderSettings(w, r, http.StatusOK, nil, nil)
}

// renderSettings shows the settings; failed is the form refused (shown
// with its errors), made a token just made (its secret shown this once).
func (a *site) renderSettings(w http.ResponseWriter, r *http.Request, status int, failed *pageForm, made *casework.NewToken) error {
	ctx, p := r.Context(), auth.FromContext(r.Context())
	me, err := a.Cases.MySettings(ctx, p)
	if err != nil {
		return err
	}
	page := settingsPage{Me: me, NewToken: made, Session: p.Via == "session",
		Emails:   newForm("emails", "/account/emails", "notify", "muted"),
		Away:     newForm("away", "/account/away", "away_until"),
		Back:     newForm("back", "/account/away"),
		Password: newForm("password", "/account/password", "current", "password"),
		Token:    newForm("token", "/account/tokens", "name", "expires_in_days").labelled(tokenLabels),
		Notify: []option{{Value: "each", Label: "An email for each reminder", Hint: "As each step falls due."},
			{Value: "digest", Label: "One email a day", Hint: "A summary each morning of what is due and overdue."}}}
	page.Emails.Values.Set("notify", me.Notify)
	page.Emails.Values["muted"] = me.Muted
	for _, k := range postgres.MutableKinds {
		o := kindLabels[k]
		o.Value = k
		if o.Label == "" {
			o.Label = upperFirst(k)
		}
		page.Kinds = append(page.Kinds, o)
	}
	if me.AwayUntil != nil {
		d := resettlement.Date{Year: me.AwayUntil.Year(), Month: me.AwayUntil.Month(), Day: me.AwayUntil.Day()}
		page.Away.Values.Set("away_until", d.String())
		page.AwayDay = showDate(d)
	}
	page.Token.Values.Set("expires_in_days", "90")
	for _, f := range []**pageForm{&page.Emails, &page.Away, &page.Password, &page.Token} {
		if failed != nil && (*f).ID == failed.ID {
			*f = failed
		}
	}
	if page.Session {
		tokens, err := a.Cases.Tokens(ctx, p)
		if err != nil {
			return err
		}
		now := a.now()
		for _, t := range tokens {
			row := tokenRow{ID: t.ID, Name: t.Name, Created: showTime(t.CreatedAt), Used: "Never", State: "Active", Live: true}
			if t.ExpiresAt != nil {
				row.Expires = showTime(*t.ExpiresAt)
				if t.ExpiresAt.Before(now) {
					row.State, row.Live = "Expired", false
				}
			}
			if t.LastUsed != nil {
				row.Used = showTime(*t.LastUsed)
			}
			if t.RevokedAt != nil {
				row.State, row.Live = "Revoked", false
			}
			if row.Live {
				row.Revoke = newForm("revoke-"+strconv.FormatInt(t.ID, 10), "/account/tokens/"+strconv.FormatInt(t.ID, 10)+"/revoke")
			}
			page.Tokens = append(page.Tokens, row)
		}
		if page.TwoStep, err = a.Cases.MFAStatusOf(ctx, p); err != nil {
			return err
		}
	}
	d := pageData{Title: "Your settings", Section: "settings", Data: page}
	if failed != nil {
		d.Summary = failed.summary()
	}
	a.render(w, r, status, "settings", d)
	return nil
}

// settingsFailed shows the settings with the form refused, or returns the
// error for the error page.
func (a *site) settingsFailed(w http.ResponseWriter, r *http.Request, form *pageForm, err error) error {
	e := formError(err)
	if e == nil {
		return err
	}
	form.set(r.PostForm)
	form.fail(e, nil)
	return a.renderSettings(w, r, casework.Status(err), form, nil)
}

// current reads the person's settings as they are, to change one part.
func (a *site) current(r *http.Request) (casework.Settings, error) {
	me, err := a.Cases.MySettings(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		return casework.Settings{}, err
	}
	set := casework.Settings{Notify: me.Notify, Muted: me.Muted}
	if me.AwayUntil != nil {
		set.AwayUntil = resettlement.Date{Year: me.AwayUntil.Year(), Month: me.AwayUntil.Month(), Day: me.AwayUntil.Day()}
	}
	return set, nil
}

func (a *site) pageSettingsEmails(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	set, err := a.current(r)
	if err != nil {
		return err
	}
	set.Notify, set.Muted = r.PostForm.Get("notify"), r.PostForm["muted"]
	if err := a.Cases.UpdateSettings(r.Context(), auth.FromContext(r.Context()), set); err != nil {
		return a.settingsFailed(w, r, newForm("emails", "/account/emails", "notify", "muted"), err)
	}
	msg := "Email settings saved: an email for each reminder."
	if set.Notify == "digest" {
		msg = "Email settings saved: one email a day."
	}
	if len(set.Muted) > 0 {
		msg += " Turned off: " + strings.Join(set.Muted, ", ") + "."
	}
	a.redirectWith(w, r, "/account", msg)
	return nil
}

func (a *site) pageSettingsAway(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	set, err := a.current(r)
	if err != nil {
		return err
	}
	form := newForm("away", "/account/away", "away_until")
	var errs resettlement.Errors
	back := r.PostForm.Get("back") == "true"
	set.AwayUntil = resettlement.Date{}
	if !back {
		set.AwayUntil = formDate(r.PostForm, "away_until", &errs)
		if set.AwayUntil.IsZero() && len(errs) == 0 {
			errs.Add("away_until", "is required: the day you are back")
		}
	}
	if len(errs) > 0 {
		return a.settingsFailed(w, r, form, casework.FieldsError(errs))
	}
	if err := a.Cases.UpdateSettings(r.Context(), auth.FromContext(r.Context()), set); err != nil {
		return a.settingsFailed(w, r, form, err)
	}
	msg := "Welcome back: reminders come to you again."
	if !back {
		msg = "You are away until " + showDate(set.AwayUntil) + ": until then your reminders go to your team's queue."
	}
	a.redirectWith(w, r, "/account", msg)
	return nil
}

func (a *site) pageSettingsPassword(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	rev, err := a.Cases.ChangeMyPassword(r.Context(), auth.FromContext(r.Context()), f.Get("current"), f.Get("password"))
	if err != nil {
		if wait := casework.RetryAfterOf(err); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		}
		return a.settingsFailed(w, r, newForm("password", "/account/password", "current", "password").labelled(map[string]string{"password": "New password"}), err)
	}
	msg := "Password changed."
	if rev.SessionsEnded > 0 || rev.TokensRevoked > 0 {
		msg += " Your other sessions (" + strconv.FormatInt(rev.SessionsEnded, 10) + ") have ended and your tokens (" + strconv.FormatInt(rev.TokensRevoked, 10) + ") are revoked."
	}
	a.redirectWith(w, r, "/account", msg)
	return nil
}

func (a *site) pageSettingsToken(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	form := newForm("token", "/account/tokens", "name", "expires_in_days").labelled(tokenLabels)
	days, cerr := strconv.Atoi(strings.TrimSpace(f.Get("expires_in_days")))
	if cerr != nil && strings.TrimSpace(f.Get("expires_in_days")) != "" {
		var errs resettlement.Errors
		if strings.TrimSpace(f.Get("name")) == "" {
			errs.Add("name", "is required: what the token is for (up to 100 characters)")
		}
		errs.Add("expires_in_days", "must be a whole number of days, from 1 to 366")
		return a.settingsFailed(w, r, form, casework.FieldsError(errs))
	}
	t, err := a.Cases.CreateToken(r.Context(), auth.FromContext(r.Context()), f.Get("name"), days)
	if err != nil {
		return a.settingsFailed(w, r, form, err)
	}
	return a.renderSettings(w, r, http.StatusCreated, nil, &t)
}

func (a *site) pageSettingsRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "tokenID"), 10, 64)
	if err != nil {
		return casework.Errorf(casework.NotFound, "You have no such token.")
	}
	if err := a.Cases.RevokeToken(r.Context(), auth.FromContext(r.Context()), id); err != nil {
		return err
	}
	a.redirectWith(w, r, "/account#tokens", "Token revoked: it no longer works.")
	return nil
}
