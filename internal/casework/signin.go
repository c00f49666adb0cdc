package casework

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Signing in, and every other proof of who one is: a password, the current
// password when changing it, a TOTP or recovery code. Each goes through the
// per-account throttle (auth.Throttle) and is audited: a failure, a refusal
// because the account must wait ("signin.throttled"), and a lock
// ("signin.locked", when the person is emailed too). The per-address rate
// limit is package httpserver's.

var errBadLogin = Errorf(Unauthenticated, "That email (or staff id) and password do not match an active account.")

// ThrottledError is a refusal because the account has failed too often:
// the attempt was not checked. RetryAfter is when to try again.
type ThrottledError struct {
	Err        *Error
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string { return e.Err.Error() }
func (e *ThrottledError) Unwrap() error { return e.Err }

// RetryAfterOf is how long err says to wait before trying again (0: it
// does not say).
func RetryAfterOf(err error) time.Duration {
	var te *ThrottledError
	if errors.As(err, &te) {
		return te.RetryAfter
	}
	return 0
}

func throttled(wait time.Duration) *ThrottledError {
	when := fmt.Sprintf("%d seconds", max(int(wait.Round(time.Second).Seconds()), 1))
	if wait >= 90*time.Second {
		when = fmt.Sprintf("%d minutes", int((wait + time.Minute - 1).Minutes()))
	}
	return &ThrottledError{RetryAfter: wait, Err: Errorf(TooMany,
		"Too many failed attempts to sign in to this account. Wait "+when+" and try again; if you have forgotten your password, ask an administrator.")}
}

// throttleKey names the account an attempt is against: the staff id when
// the login matched an account, else the name as typed, so an unknown name
// is throttled (and answered) exactly like a real one.
func throttleKey(staffID, login string) string {
	if staffID != "" {
		return "staff:" + staffID
	}
	return "login:" + strings.ToLower(strings.TrimSpace(login))
}

func actorOf(staffID string) string {
	if staffID == "" {
		return "unknown"
	}
	return staffID
}

// guard takes an attempt against key, or refuses it (audited) while the
// account must wait.
func (s *Service) guard(ctx context.Context, key, staffID, remote, method string) error {
	th, now := auth.DefaultThrottle, s.now()
	wait, err := s.DB.CountAttempt(ctx, key, staffID, now, func(st postgres.ThrottleState) (time.Duration, int) { return th.Decide(st, now) })
	if err != nil {
		return err
	}
	if wait > 0 {
		if err := s.AuditAs(ctx, actorOf(staffID), remote, "signin.throttled", "", "method="+method+" retry_after="+strconv.Itoa(int(wait.Seconds()))); err != nil {
			return err
		}
		return throttled(wait)
	}
	return nil
}

// failed records a failed attempt (audited as action) and locks the
// account if it has now failed too often, emailing the person once.
func (s *Service) failed(ctx context.Context, key string, staff postgres.Staff, remote, action, method string) error {
	if err := s.AuditAs(ctx, actorOf(staff.ID), remote, action, "", "method="+method); err != nil {
		return err
	}
	th, now := auth.DefaultThrottle, s.now()
	until := now.Add(th.LockFor)
	locked, failures, err := s.DB.LockAttempts(ctx, key, th.LockAfter, now, until)
	if err != nil || !locked {
		return err
	}
	if err := s.AuditAs(ctx, actorOf(staff.ID), remote, "signin.locked", "",
		fmt.Sprintf("failures=%d until=%s", failures, until.UTC().Format(time.RFC3339))); err != nil {
		return err
	}
	if staff.ID == "" {
		return nil
	}
	return s.NotifyAccount(ctx, staff, mail.Account{Event: mail.AccountLocked, At: now, Until: until, Failures: failures})
}

// succeeded forgets the account's failures.
func (s *Service) succeeded(ctx context.Context, key string) error {
	return s.DB.ClearAttempts(ctx, key, s.now().Add(-auth.DefaultThrottle.Forget))
}

// SignIn checks a local password for the account login names (an email
// address or a staff id), throttled per account and audited either way. It
// takes as long for an account that does not exist as for one that does,
// and its refusal does not say which of the two was wrong. The caller
// starts the session.
func (s *Service) SignIn(ctx context.Context, login, password, remote string) (postgres.Staff, error) {
	var errs resettlement.Errors
	if login == "" || len(login) > 200 {
		errs.Add("login", "is required: your email address or staff id")
	}
	if password == "" || len(password) > auth.MaxPasswordLength {
		errs.Add("password", "is required")
	}
	if len(errs) > 0 {
		return postgres.Staff{}, FieldsError(errs)
	}
	staff, hash, err := s.DB.Login(ctx, login)
	if err != nil && !errors.Is(err, postgres.ErrNotFound) {
		return staff, err
	}
	key := throttleKey(staff.ID, login)
	if err := s.guard(ctx, key, staff.ID, remote, "password"); err != nil {
		return postgres.Staff{}, err
	}
	ok := false
	if hash != "" {
		ok, _ = auth.VerifyPassword(password, hash)
	} else {
		auth.WasteTime(password) // as long as a real check: no telling which accounts exist
	}
	if !ok {
		if err := s.failed(ctx, key, staff, remote, "signin.failed", "password"); err != nil {
			return postgres.Staff{}, err
		}
		return postgres.Staff{}, errBadLogin
	}
	return staff, s.succeeded(ctx, key)
}

// CheckCurrentPassword checks the signed-in person's password before they
// change it, under the same per-account throttle as signing in, and
// audits a wrong one ("password.failed").
func (s *Service) CheckCurrentPassword(ctx context.Context, p *auth.Principal, current string) error {
	key := throttleKey(p.ID(), "")
	if err := s.guard(ctx, key, p.ID(), p.Remote, "current-password"); err != nil {
		return err
	}
	_, hash, err := s.DB.Login(ctx, p.ID())
	if err != nil && !errors.Is(err, postgres.ErrNotFound) {
		return err
	}
	ok := false
	if hash != "" && current != "" && len(current) <= auth.MaxPasswordLength {
		ok, _ = auth.VerifyPassword(current, hash)
	}
	if !ok {
		if err := s.failed(ctx, key, p.Staff, p.Remote, "password.failed", "current-password"); err != nil {
			return err
		}
		if hash == "" {
			return FieldsError(resettlement.Errors{{Field: "current", Message: "cannot be checked: you have no password here (you sign in through single sign-on)"}})
		}
		return FieldsError(resettlement.Errors{{Field: "current", Message: "is not your current password"}})
	}
	return s.succeeded(ctx, key)
}

// NotifyAccount emails a member of staff about their own account (a lock,
// a password, role or email address set, two-step sign-in turned on or
// off), through the outbox. Nothing is sent to someone without an email
// address.
func (s *Service) NotifyAccount(ctx context.Context, staff postgres.Staff, a mail.Account) error {
	if staff.Email == "" {
		return nil
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	a.RecipientName = staff.Name
	_, err := s.DB.EnqueueEmail(context.WithoutCancel(ctx), postgres.Email{
		AlarmKey:  "account/" + staff.ID + "/" + a.Event + "/" + strconv.FormatInt(a.At.UnixNano(), 10),
		Recipient: staff.Email, RecipientID: staff.ID, Kind: "account", Template: "account", Data: a})
	return err
}

// SignInByOIDC finds the active account an identity provider signed in:
// the one linked to its (issuer, subject). At a person's first single
// sign-on there is no link yet: the account whose email address the
// provider vouched for (email_verified true) is linked, unless it is
// linked to another subject of that provider already — so an email
// address changed at the provider, or a new account there with someone's
// address, cannot take over a Throughgate account. Refusals and links are
// audited.
func (s *Service) SignInByOIDC(ctx context.Context, id auth.Identity, remote string) (postgres.Staff, error) {
	staff, err := s.DB.StaffByIdentity(ctx, id.Issuer, id.Subject)
	if err == nil || !errors.Is(err, postgres.ErrNotFound) {
		return staff, err
	}
	refuse := func(actor, reason, msg string) (postgres.Staff, error) {
		if err := s.AuditAs(ctx, actor, remote, "signin.failed", "", "method=oidc reason="+reason); err != nil {
			return postgres.Staff{}, err
		}
		return postgres.Staff{}, Errorf(Forbidden, msg)
	}
	if id.Email == "" || !id.EmailVerified {
		return refuse("unknown", "email-not-verified", "You signed in, but your identity provider did not confirm your email address, so Throughgate cannot tell which account is yours. Ask the service desk.")
	}
	staff, err = s.DB.StaffByEmail(ctx, id.Email)
	if errors.Is(err, postgres.ErrNotFound) {
		return refuse("unknown", "no-account", "You signed in, but no active Throughgate account has your email address. Ask an administrator.")
	}
	if err != nil {
		return staff, err
	}
	linked, err := s.DB.HasIdentity(ctx, staff.ID, id.Issuer)
	if err != nil {
		return postgres.Staff{}, err
	}
	if !linked {
		err = s.DB.LinkIdentity(ctx, id.Issuer, id.Subject, staff.ID, id.Email)
		if errors.Is(err, postgres.ErrExists) {
			linked, err = true, nil // another sign-in linked it first
		}
		if err != nil {
			return postgres.Staff{}, err
		}
	}
	if linked {
		return refuse(staff.ID, "linked-to-another-subject", "The Throughgate account with your email address belongs to another account at your identity provider. Ask an administrator.")
	}
	if err := s.AuditAs(ctx, staff.ID, remote, "oidc.link", "", "issuer="+id.Issuer+" subject="+id.Subject); err != nil {
		return postgres.Staff{}, err
	}
	return staff, nil
}

// Two-step sign-in (auth.RequiresMFA says whose role needs it). A
// personal access token can do none of it, nor create tokens or change a
// password: those need the person, in a browser session (RequireSession).

var (
	errTokenNotEnough = Errorf(Forbidden, "A personal access token cannot create tokens, change a password or manage two-step sign-in: sign in with your password in a session for that.")
	errBadCode        = Errorf(Unauthenticated, "That code is not right, or has been used already. Enter the code your authenticator app shows now, or one of your recovery codes.",
		resettlement.FieldError{Field: "code", Message: "is not a current code from your authenticator app, or an unused recovery code"})
	errWrongCode = FieldsError(resettlement.Errors{{Field: "code", Message: "is not a current code from your authenticator app, or an unused recovery code"}})
)

// RequireSession refuses a request made with a personal access token: it
// may not create tokens, change a password or manage two-step sign-in.
func RequireSession(p *auth.Principal) error {
	if p == nil || p.Via != "session" {
		return errTokenNotEnough
	}
	return nil
}

// TOTPIssuer names Throughgate in authenticator apps.
const TOTPIssuer = "Throughgate"

// checkCode checks a TOTP code (each 30-second step accepted once) or a
// recovery code (each used once), and says which it was.
func (s *Service) checkCode(ctx context.Context, staffID, code string) (ok bool, method string, err error) {
	if len(code) > 64 {
		return false, "totp", nil
	}
	if auth.LooksLikeRecoveryCode(code) {
		ok, err = s.DB.UseRecoveryCode(ctx, staffID, auth.HashRecoveryCode(code))
		return ok, "recovery-code", err
	}
	m, err := s.DB.TOTP(ctx, staffID)
	if errors.Is(err, postgres.ErrNotFound) || err == nil && !m.Confirmed {
		return false, "totp", nil
	}
	if err != nil {
		return false, "totp", err
	}
	step, ok := auth.CheckTOTP(m.Secret, code, s.now())
	if !ok {
		return false, "totp", nil
	}
	ok, err = s.DB.UseTOTPStep(ctx, staffID, step) // refuses a code used already
	return ok, "totp", err
}

// VerifySecondFactor checks a TOTP or recovery code of the signed-in
// person, under the per-account throttle, audited either way. atSignIn is
// the code that finishes a password sign-in (a wrong one answers 401);
// otherwise it confirms a change to two-step sign-in (a wrong one is the
// code field's fault).
func (s *Service) VerifySecondFactor(ctx context.Context, p *auth.Principal, code string, atSignIn bool) error {
	key := throttleKey(p.ID(), "")
	if err := s.guard(ctx, key, p.ID(), p.Remote, "totp"); err != nil {
		return err
	}
	ok, method, err := s.checkCode(ctx, p.ID(), code)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.failed(ctx, key, p.Staff, p.Remote, "mfa.failed", method); err != nil {
			return err
		}
		if atSignIn {
			return errBadCode
		}
		return errWrongCode
	}
	if err := s.succeeded(ctx, key); err != nil {
		return err
	}
	detail := "method=" + method
	if method == "recovery-code" {
		left, err := s.DB.RecoveryCodesLeft(ctx, p.ID())
		if err != nil {
			return err
		}
		detail += " recovery_codes_left=" + strconv.Itoa(left)
	}
	if !atSignIn {
		detail += " to=confirm"
	}
	return s.Audit(ctx, p, "mfa.verify", "", detail)
}

// MFAStatus is a person's two-step sign-in.
type MFAStatus struct {
	// TOTP: an authenticator app is set up.
	TOTP bool `json:"totp"`
	// Required: their role must sign in with one.
	Required bool `json:"required"`
	// RecoveryCodesLeft is how many unused recovery codes they have.
	RecoveryCodesLeft int `json:"recovery_codes_left"`
}

// MFAStatusOf reads the signed-in person's two-step sign-in.
func (s *Service) MFAStatusOf(ctx context.Context, p *auth.Principal) (MFAStatus, error) {
	if err := RequireSession(p); err != nil {
		return MFAStatus{}, err
	}
	st := MFAStatus{Required: auth.RequiresMFA(p.Staff.Role)}
	var err error
	if st.TOTP, err = s.DB.TOTPEnrolled(ctx, p.ID()); err != nil || !st.TOTP {
		return st, err
	}
	st.RecoveryCodesLeft, err = s.DB.RecoveryCodesLeft(ctx, p.ID())
	return st, err
}

// TOTPEnrolment is a new TOTP secret, shown this once.
type TOTPEnrolment struct {
	// Secret is for typing into an authenticator app (base32).
	Secret string `json:"secret"`
	// URI is the otpauth:// address an app reads from a QR code or a link.
	URI string `json:"otpauth_uri"`
}

// StartTOTP begins setting up an authenticator app for the signed-in
// person: a new secret, returned this once and never again, which counts
// only once ConfirmTOTP has a code made from it.
func (s *Service) StartTOTP(ctx context.Context, p *auth.Principal) (TOTPEnrolment, error) {
	if err := RequireSession(p); err != nil {
		return TOTPEnrolment{}, err
	}
	secret := auth.NewTOTPSecret()
	err := s.DB.StartTOTP(ctx, p.ID(), secret)
	if errors.Is(err, postgres.ErrExists) {
		return TOTPEnrolment{}, Errorf(Conflict, "You have an authenticator app set up already. To use another, turn two-step sign-in off first, or ask an administrator to reset it.")
	}
	if err == nil {
		err = s.Audit(ctx, p, "mfa.enrol.start", "", "")
	}
	if err != nil {
		return TOTPEnrolment{}, err
	}
	account := p.Staff.Email
	if account == "" {
		account = p.ID()
	}
	return TOTPEnrolment{Secret: auth.TOTPSecretText(secret), URI: auth.TOTPURI(secret, account, TOTPIssuer)}, nil
}

// ConfirmTOTP finishes setting up an authenticator app with a code it
// made, and returns the person's recovery codes, shown this once.
func (s *Service) ConfirmTOTP(ctx context.Context, p *auth.Principal, code string) ([]string, error) {
	if err := RequireSession(p); err != nil {
		return nil, err
	}
	key := throttleKey(p.ID(), "")
	if err := s.guard(ctx, key, p.ID(), p.Remote, "totp"); err != nil {
		return nil, err
	}
	m, err := s.DB.TOTP(ctx, p.ID())
	switch {
	case errors.Is(err, postgres.ErrNotFound):
		return nil, Errorf(Conflict, "Start setting up an authenticator app first: that gives you the secret to add to it.")
	case err != nil:
		return nil, err
	case m.Confirmed:
		return nil, Errorf(Conflict, "Your authenticator app is set up already.")
	}
	plain, hashes := auth.NewRecoveryCodes()
	step, ok := auth.CheckTOTP(m.Secret, code, s.now())
	if ok {
		err = s.DB.ConfirmTOTP(ctx, p.ID(), step, hashes)
		if errors.Is(err, postgres.ErrNotFound) { // a code used already, or a race
			ok, err = false, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if !ok {
		if err := s.failed(ctx, key, p.Staff, p.Remote, "mfa.failed", "totp-enrol"); err != nil {
			return nil, err
		}
		return nil, FieldsError(resettlement.Errors{{Field: "code", Message: "is not the code your authenticator app shows now: check you added the secret shown, and that the phone's clock is right"}})
	}
	if err := s.succeeded(ctx, key); err != nil {
		return nil, err
	}
	if err := s.Audit(ctx, p, "mfa.enrol", "", "method=totp recovery_codes="+strconv.Itoa(len(plain))); err != nil {
		return nil, err
	}
	return plain, s.NotifyAccount(ctx, p.Staff, mail.Account{Event: mail.AccountMFAEnabled})
}

// DisableTOTP turns the signed-in person's two-step sign-in off, given a
// current code; not for a role that requires it.
func (s *Service) DisableTOTP(ctx context.Context, p *auth.Principal, code string) error {
	if err := RequireSession(p); err != nil {
		return err
	}
	if auth.RequiresMFA(p.Staff.Role) {
		return Errorf(Forbidden, "Your role requires two-step sign-in, so it cannot be turned off. If you have lost your authenticator app, an administrator can reset it.")
	}
	if enrolled, err := s.DB.TOTPEnrolled(ctx, p.ID()); err != nil || !enrolled {
		if err == nil {
			err = Errorf(Conflict, "Two-step sign-in is not on.")
		}
		return err
	}
	if err := s.VerifySecondFactor(ctx, p, code, false); err != nil {
		return err
	}
	if _, err := s.DB.DeleteTOTP(ctx, p.ID()); err != nil {
		return err
	}
	if err := s.Audit(ctx, p, "mfa.disable", "", "method=totp"); err != nil {
		return err
	}
	return s.NotifyAccount(ctx, p.Staff, mail.Account{Event: mail.AccountMFADisabled})
}

// RegenerateRecoveryCodes gives the signed-in person new recovery codes,
// given a current code; the old ones stop working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *auth.Principal, code string) ([]string, error) {
	if err := RequireSession(p); err != nil {
		return nil, err
	}
	if enrolled, err := s.DB.TOTPEnrolled(ctx, p.ID()); err != nil || !enrolled {
		if err == nil {
			err = Errorf(Conflict, "Set up an authenticator app first: recovery codes stand in for it.")
		}
		return nil, err
	}
	if err := s.VerifySecondFactor(ctx, p, code, false); err != nil {
		return nil, err
	}
	plain, hashes := auth.NewRecoveryCodes()
	if err := s.DB.ReplaceRecoveryCodes(ctx, p.ID(), hashes); err != nil {
		return nil, err
	}
	if err := s.Audit(ctx, p, "mfa.recovery_codes", "", "recovery_codes="+strconv.Itoa(len(plain))); err != nil {
		return nil, err
	}
	return plain, s.NotifyAccount(ctx, p.Staff, mail.Account{Event: mail.AccountRecoveryCodes})
}

// Revoked says what a change to someone's credentials ended.
type Revoked struct {
	SessionsEnded int64 `json:"sessions_ended"`
	TokensRevoked int64 `json:"tokens_revoked"`
}

// auditRevoked records the sessions and tokens a change ended.
func (s *Service) auditRevoked(ctx context.Context, p *auth.Principal, staffID, reason string, r Revoked) error {
	if r.TokensRevoked > 0 {
		if err := s.Audit(ctx, p, "token.revoke", "", fmt.Sprintf("staff=%s tokens=%d reason=%s", staffID, r.TokensRevoked, reason)); err != nil {
			return err
		}
	}
	if r.SessionsEnded > 0 {
		return s.Audit(ctx, p, "session.end", "", fmt.Sprintf("staff=%s sessions=%d reason=%s", staffID, r.SessionsEnded, reason))
	}
	return nil
}

// ResetMFA is an administrator's removal of another person's authenticator
// app and recovery codes (they lost their phone): their sessions and
// tokens end, they are emailed, and they set up an app again at their next
// password sign-in if their role requires one.
func (s *Service) ResetMFA(ctx context.Context, admin *auth.Principal, staffID string) (Revoked, error) {
	var r Revoked
	if err := RequireSession(admin); err != nil {
		return r, err
	}
	if !admin.IsAdmin() {
		return r, Errorf(Forbidden, "Only administrators reset another person's two-step sign-in.")
	}
	if staffID == admin.ID() {
		return r, Errorf(Conflict, "You cannot reset your own two-step sign-in: ask another administrator.")
	}
	staff, err := s.DB.StaffMember(ctx, staffID)
	if errors.Is(err, postgres.ErrNotFound) {
		return r, Errorf(NotFound, "There is no such member of staff.")
	}
	if err != nil {
		return r, err
	}
	if _, err := s.DB.DeleteTOTP(ctx, staffID); err != nil {
		return r, err
	}
	if r.SessionsEnded, r.TokensRevoked, err = s.DB.EndSessionsAndTokens(ctx, staffID, nil); err != nil {
		return r, err
	}
	if err := s.Audit(ctx, admin, "mfa.reset", "", "staff="+staffID); err != nil {
		return r, err
	}
	if err := s.auditRevoked(ctx, admin, staffID, "mfa-reset", r); err != nil {
		return r, err
	}
	return r, s.NotifyAccount(ctx, staff, mail.Account{Event: mail.AccountMFAReset, By: admin.Staff.Name})
}

// ChangePassword sets a member of staff's password: the person's own
// (after CheckCurrentPassword; their other sessions end, the one they
// used stays) or, by an administrator, another person's (every session
// ends). Either way every token of theirs is revoked, the change is
// audited, and the person is emailed.
func (s *Service) ChangePassword(ctx context.Context, p *auth.Principal, staff postgres.Staff, password string) (Revoked, error) {
	var r Revoked
	if err := RequireSession(p); err != nil {
		return r, err
	}
	own := staff.ID == p.ID()
	if !own && !p.IsAdmin() {
		return r, Errorf(Forbidden, "Only administrators set another person's password.")
	}
	if msg := auth.CheckPassword(password); msg != "" {
		return r, FieldsError(resettlement.Errors{{Field: "password", Message: msg}})
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return r, err
	}
	var keep []byte
	if own {
		keep = p.SessionHash
	}
	r.SessionsEnded, r.TokensRevoked, err = s.DB.ChangePassword(ctx, staff.ID, hash, keep)
	if errors.Is(err, postgres.ErrNotFound) {
		return r, Errorf(NotFound, "There is no such member of staff.")
	}
	if err != nil {
		return r, err
	}
	by := "self"
	if !own {
		by = "admin"
	}
	if err := s.Audit(ctx, p, "staff.password", "", fmt.Sprintf("staff=%s by=%s sessions_ended=%d tokens_revoked=%d",
		staff.ID, by, r.SessionsEnded, r.TokensRevoked)); err != nil {
		return r, err
	}
	if err := s.auditRevoked(ctx, p, staff.ID, "password", r); err != nil {
		return r, err
	}
	if own {
		return r, s.NotifyAccount(ctx, staff, mail.Account{Event: mail.AccountPasswordChanged})
	}
	return r, s.NotifyAccount(ctx, staff, mail.Account{Event: mail.AccountPasswordSet, By: p.Staff.Name})
}

// StaffChanged audits and tells a member of staff of a change to their
// role or email address (an administrator's doing): the role change goes
// to them, the email change to the address they had, so an address
// changed to take over the account still reaches the person.
func (s *Service) StaffChanged(ctx context.Context, p *auth.Principal, before, after postgres.Staff) error {
	if before.Role != after.Role {
		if err := s.Audit(ctx, p, "staff.role", "", "staff="+after.ID+" from="+before.Role+" to="+after.Role); err != nil {
			return err
		}
		if err := s.NotifyAccount(ctx, after, mail.Account{Event: mail.AccountRoleChanged, By: p.Staff.Name, OldRole: before.Role, Role: after.Role}); err != nil {
			return err
		}
	}
	if !strings.EqualFold(before.Email, after.Email) {
		if err := s.Audit(ctx, p, "staff.email", "", "staff="+after.ID); err != nil {
			return err
		}
		if err := s.NotifyAccount(ctx, before, mail.Account{Event: mail.AccountEmailChanged, By: p.Staff.Name, NewEmail: after.Email}); err != nil {
			return err
		}
	}
	return nil
}
