package casework

import (
	"context"
	"errors"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

var errBadLogin = Errorf(Unauthenticated, "That email (or staff id) and password do not match an active account.")

// SignIn checks a local password for the account login names (an email
// address or a staff id), audited either way. It takes as long for an
// account that does not exist as for one that does, and its refusal does
// not say which of the two was wrong. The caller starts the session.
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
	ok := false
	if hash != "" {
		ok, _ = auth.VerifyPassword(password, hash)
	} else {
		auth.WasteTime(password) // as long as a real check: no telling which accounts exist
	}
	if !ok {
		actor := "unknown"
		if staff.ID != "" {
			actor = staff.ID
		}
		if err := s.AuditAs(ctx, actor, remote, "signin.failed", "", "method=password"); err != nil {
			return postgres.Staff{}, err
		}
		return postgres.Staff{}, errBadLogin
	}
	return staff, nil
}

// SignInByEmail finds the active account for an email address an identity
// provider vouched for; a refusal is audited.
func (s *Service) SignInByEmail(ctx context.Context, email, remote string) (postgres.Staff, error) {
	staff, err := s.DB.StaffByEmail(ctx, email)
	if errors.Is(err, postgres.ErrNotFound) {
		_ = s.AuditAs(ctx, "unknown", remote, "signin.failed", "", "method=oidc no active account")
		return staff, Errorf(Forbidden, "You signed in, but no active Throughgate account has your email address. Ask an administrator.")
	}
	return staff, err
}
