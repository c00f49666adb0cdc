package web

import (
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
)

// Sign-in and sign-out pages. The page and POST /api/v1/auth/login share
// the password check and its audit (casework.Service.SignIn) and the rate
// limit (one allowance per client address for both).

type signInPage struct {
	Form *pageForm
	Next string
	OIDC bool
}

func (a *site) signInForm() *pageForm {
	return newForm("sign-in", "/sign-in", "login", "password")
}

func (a *site) pageSignIn(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Auth.Authenticate(r); err == nil {
		http.Redirect(w, r, "/cases", http.StatusSeeOther)
		return
	}
	next := r.URL.Query().Get("next")
	if !safeLocalPath(next) {
		next = ""
	}
	a.render(w, r, http.StatusOK, "signin", pageData{Title: "Sign in", Data: signInPage{Form: a.signInForm(), Next: next, OIDC: a.OIDC != nil}})
}

func (a *site) pageSignInPost(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	next := f.Get("next")
	if !safeLocalPath(next) {
		next = "/cases"
	}
	// A sign-in form posted from another site is refused (login CSRF).
	if a.Auth.CSRF != nil && a.Auth.CSRF.Check(r) != nil {
		return casework.Errorf(casework.Forbidden, "This request came from another site and was refused.")
	}
	ctx, remote := r.Context(), auth.ClientIP(r)
	staff, err := a.Cases.SignIn(ctx, f.Get("login"), f.Get("password"), remote)
	if err == nil {
		pending, err := auth.SecondFactor(ctx, a.Cases.DB, staff)
		if err != nil {
			return err
		}
		if err := a.Sessions.Start(ctx, w, r, staff.ID, "password"); err != nil {
			return err
		}
		detail := "method=password"
		if pending != "" {
			detail += " second_factor=" + pending
			next = secondStepPage(pending, next)
		}
		if err := a.Cases.AuditAs(ctx, staff.ID, remote, "signin", "", detail); err != nil {
			return err
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	if wait := casework.RetryAfterOf(err); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	form := a.signInForm().set(url.Values{"login": {f.Get("login")}})
	form.fail(e, nil)
	if e.Kind == casework.Unauthenticated {
		// Say which fields to look at without saying which one was wrong.
		form.Problems = nil
		form.Errs["login"] = e.Detail
	}
	a.render(w, r, casework.Status(err), "signin", pageData{Title: "Sign in", Summary: form.summary(),
		Data: signInPage{Form: form, Next: f.Get("next"), OIDC: a.OIDC != nil}})
	return nil
}

func (a *site) pageSignOut(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	err := a.Sessions.End(r.Context(), w, r)
	if err == nil {
		err = a.Cases.Audit(r.Context(), p, "signout", "", "")
	}
	if err != nil {
		return err
	}
	a.redirectWith(w, r, "/sign-in", "You have signed out.")
	return nil
}

// The second step of a password sign-in: a code from the authenticator app
// (or a recovery code), or, for a role that requires one and has none yet,
// setting an app up. Until then the session reaches nothing else
// (pageAuth sends it here). The code shares the sign-in rate limit, and
// the per-account throttle with the password.

// secondStepPage is where a session still to pass its second factor goes,
// to come back to next afterwards.
func secondStepPage(pending, next string) string {
	if pending == auth.SecondFactorEnrol {
		return "/account/two-step"
	}
	to := "/sign-in/code"
	if safeLocalPath(next) {
		to += "?next=" + url.QueryEscape(next)
	}
	return to
}

type signInCodePage struct {
	Form *pageForm
	Next string
}

func (a *site) codeForm(id, action string) *pageForm { return newForm(id, action, "code") }

func (a *site) pageSignInCode(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	next := r.URL.Query().Get("next")
	if !safeLocalPath(next) {
		next = ""
	}
	if p.Pending != auth.SecondFactorTOTP {
		http.Redirect(w, r, secondStepPage(p.Pending, "/cases"), http.StatusSeeOther)
		return nil
	}
	a.render(w, r, http.StatusOK, "signin-code", pageData{Title: "Enter your code",
		Data: signInCodePage{Form: a.codeForm("sign-in-code", "/sign-in/code"), Next: next}})
	return nil
}

func (a *site) pageSignInCodePost(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	p, f := auth.FromContext(r.Context()), r.PostForm
	next := f.Get("next")
	if !safeLocalPath(next) {
		next = "/cases"
	}
	if p.Pending != auth.SecondFactorTOTP {
		http.Redirect(w, r, secondStepPage(p.Pending, next), http.StatusSeeOther)
		return nil
	}
	err := a.Cases.VerifySecondFactor(r.Context(), p, f.Get("code"), true)
	if err == nil {
		if _, err := a.Sessions.Elevate(r.Context(), w, r, p); err != nil {
			return err
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	form := a.codeForm("sign-in-code", "/sign-in/code")
	if !a.failForm(w, form, err) {
		return err
	}
	a.render(w, r, casework.Status(err), "signin-code", pageData{Title: "Enter your code", Summary: form.summary(),
		Data: signInCodePage{Form: form, Next: f.Get("next")}})
	return nil
}

// failForm puts the service's refusal on a form of one code field, and
// reports false for a fault on our side.
func (a *site) failForm(w http.ResponseWriter, form *pageForm, err error) bool {
	e := formError(err)
	if e == nil {
		return false
	}
	if wait := casework.RetryAfterOf(err); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	form.fail(e, nil)
	if len(e.Fields) > 0 && e.Kind == casework.Unauthenticated {
		form.Problems, form.Errs["code"] = nil, e.Detail
	}
	return true
}

// twoStepPage is the two-step sign-in page: setting up an authenticator
// app, the recovery codes once, and for someone who has one, new recovery
// codes or (when their role allows) turning it off.
type twoStepPage struct {
	Status casework.MFAStatus
	// Pending: the session must set an app up before anything else.
	Pending bool
	// Secret and URI are shown once, while setting up. The URI is ours
	// (otpauth://, which html/template would otherwise refuse in a link).
	Secret  string
	URI     template.URL
	Confirm *pageForm
	// Codes are recovery codes, shown once.
	Codes               []string
	Next                string
	Regenerate, Disable *pageForm
}

func (a *site) twoStep(r *http.Request) (twoStepPage, error) {
	p := auth.FromContext(r.Context())
	st, err := a.Cases.MFAStatusOf(r.Context(), p)
	return twoStepPage{Status: st, Pending: p.Pending != "", Next: "/cases",
		Regenerate: a.codeForm("new-codes", "/account/two-step/recovery-codes"),
		Disable:    a.codeForm("turn-off", "/account/two-step/disable")}, err
}

func (a *site) renderTwoStep(w http.ResponseWriter, r *http.Request, status int, d twoStepPage, summary []summaryItem) {
	a.render(w, r, status, "two-step", pageData{Title: "Two-step sign-in", Section: "settings", Summary: summary, Data: d})
}

func (a *site) pageTwoStep(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	if p.Pending == auth.SecondFactorTOTP {
		http.Redirect(w, r, secondStepPage(p.Pending, "/account/two-step"), http.StatusSeeOther)
		return nil
	}
	d, err := a.twoStep(r)
	if err != nil {
		return err
	}
	a.renderTwoStep(w, r, http.StatusOK, d, nil)
	return nil
}

// groups spaces a secret in fours, for typing.
func groups(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (a *site) pageTwoStepStart(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	if p.Pending == auth.SecondFactorTOTP {
		http.Redirect(w, r, secondStepPage(p.Pending, "/account/two-step"), http.StatusSeeOther)
		return nil
	}
	en, err := a.Cases.StartTOTP(r.Context(), p)
	if err != nil {
		return err
	}
	d, err := a.twoStep(r)
	if err != nil {
		return err
	}
	d.Secret, d.URI, d.Confirm = groups(en.Secret), template.URL(en.URI), a.codeForm("confirm", "/account/two-step/confirm")
	a.renderTwoStep(w, r, http.StatusOK, d, nil)
	return nil
}

func (a *site) pageTwoStepConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	codes, err := a.Cases.ConfirmTOTP(r.Context(), p, r.PostForm.Get("code"))
	if err == nil {
		if _, err := a.Sessions.Elevate(r.Context(), w, r, p); err != nil {
			return err
		}
		d, err := a.twoStep(r)
		if err != nil {
			return err
		}
		d.Codes, d.Pending = codes, false
		a.renderTwoStep(w, r, http.StatusOK, d, nil)
		return nil
	}
	form := a.codeForm("confirm", "/account/two-step/confirm")
	if !a.failForm(w, form, err) {
		return err
	}
	d, derr := a.twoStep(r)
	if derr != nil {
		return derr
	}
	// The secret awaiting its first code is shown again to try again with:
	// it has not been confirmed, so it is not yet a secret that signs in.
	if m, merr := a.Cases.DB.TOTP(r.Context(), p.ID()); merr == nil && !m.Confirmed {
		account := p.Staff.Email
		if account == "" {
			account = p.ID()
		}
		d.Secret, d.URI = groups(auth.TOTPSecretText(m.Secret)), template.URL(auth.TOTPURI(m.Secret, account, casework.TOTPIssuer))
	}
	d.Confirm = form
	a.renderTwoStep(w, r, casework.Status(err), d, form.summary())
	return nil
}

func (a *site) pageTwoStepRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	codes, err := a.Cases.RegenerateRecoveryCodes(r.Context(), auth.FromContext(r.Context()), r.PostForm.Get("code"))
	d, derr := a.twoStep(r)
	if derr != nil {
		return derr
	}
	if err == nil {
		d.Codes, d.Next = codes, "/account/two-step"
		a.renderTwoStep(w, r, http.StatusOK, d, nil)
		return nil
	}
	if !a.failForm(w, d.Regenerate, err) {
		return err
	}
	a.renderTwoStep(w, r, casework.Status(err), d, d.Regenerate.summary())
	return nil
}

func (a *site) pageTwoStepDisable(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	err := a.Cases.DisableTOTP(r.Context(), auth.FromContext(r.Context()), r.PostForm.Get("code"))
	if err == nil {
		a.redirectWith(w, r, "/account/two-step", "Two-step sign-in is off.")
		return nil
	}
	d, derr := a.twoStep(r)
	if derr != nil {
		return derr
	}
	if !a.failForm(w, d.Disable, err) {
		return err
	}
	a.renderTwoStep(w, r, casework.Status(err), d, d.Disable.summary())
	return nil
}
